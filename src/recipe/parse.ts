/**
 * YAML → plain data plus a position lookup: recipes are parsed with the `yaml` package (YAML 1.2),
 * keeping node ranges so every later error can point at `line:col` in the file.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type YAMLMap,
} from "npm:yaml@2.9.1";
import { IssueList, type Position, type RecipeIssue } from "./errors.ts";
import { MAX_DEPTH, MAX_EXPANDED_VALUES, MAX_RECIPE_BYTES } from "./limits.ts";

/** YAML syntax errors reported before the rest are summarized in one line. */
const MAX_SYNTAX_ERRORS = 10;

/** A path into the parsed data: map keys and sequence indexes. */
export type DataPath = readonly (string | number)[];

/** Parsed YAML with positions. */
export interface PositionedYaml {
  /** The recipe file as the user named it. */
  readonly file: string;
  /** The data (plain objects, arrays, scalars). */
  readonly data: unknown;
  /**
   * Where the node at `path` starts; `key` gives the position of the map key instead of its value.
   * A path that does not exist falls back to its nearest existing ancestor.
   */
  at(path: DataPath, key?: boolean): Position;
}

/** Parses YAML text; syntax errors come back as positioned issues (and `data` is then undefined). */
export function parseYaml(text: string, file: string): {
  yaml: PositionedYaml;
  issues: readonly RecipeIssue[];
} {
  const issues = new IssueList(file);
  if (text.length > MAX_RECIPE_BYTES) {
    issues.add(
      { line: 1, col: 1 },
      `the recipe is ${text.length} characters long; at most ${MAX_RECIPE_BYTES} are read`,
    );
    return { yaml: { file, data: undefined, at: () => ({ line: 1, col: 1 }) }, issues: issues.all };
  }
  const lineCounter = new LineCounter();
  // Duplicate keys are checked by checkStructure in linear time (the library's check is quadratic).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  // One syntax error often cascades into hundreds: the first few are the useful ones.
  for (const e of doc.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    const offset = e.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    issues.add({ line, col }, `YAML syntax: ${firstLine(e.message)}`);
  }
  if (doc.errors.length > MAX_SYNTAX_ERRORS) {
    const last = lineCounter.linePos(doc.errors[MAX_SYNTAX_ERRORS].pos[0]);
    issues.add(last, `… and ${doc.errors.length - MAX_SYNTAX_ERRORS} more YAML syntax errors`);
  }
  const toPos = (offset: number | undefined): Position =>
    offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);

  // Each map's pairs by key, built on first lookup: one error per key of a 60,000-key map stays linear.
  const pairsOf = new WeakMap<object, Map<unknown, Pair<unknown, unknown>>>();
  const pairOf = (map: YAMLMap<unknown, unknown>, seg: unknown) => {
    let byKey = pairsOf.get(map);
    if (!byKey) {
      byKey = new Map();
      for (const p of map.items) {
        const k = isScalar(p.key) ? p.key.value : p.key;
        if (!byKey.has(k)) byKey.set(k, p);
      }
      pairsOf.set(map, byKey);
    }
    return byKey.get(seg);
  };
  const at = (path: DataPath, key = false): Position => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      let next: unknown;
      let nextKey: unknown;
      if (isMap(node)) {
        const pair = pairOf(node, seg);
        next = pair?.value;
        nextKey = pair?.key;
        // A key with an empty value (`with:`) has no useful value position: point at the key.
        if (pair && (next == null || (isScalar(next) && next.source === ""))) next = pair.key;
      } else if (isSeq(node) && typeof seg === "number") {
        next = node.items[seg];
      }
      if (next == null) break;
      node = next;
      keyNode = nextKey;
    }
    const target = key && keyNode ? keyNode : node;
    return toPos((target as Node | undefined)?.range?.[0]);
  };

  if (issues.empty) {
    checkStructure(doc, (node, message) => issues.add(toPos(node.range?.[0]), message));
  }
  // Alias expansion is bounded by checkStructure (with positions), so the library's count is off.
  const data = issues.empty ? doc.toJS({ maxAliasCount: -1 }) : undefined;
  return { yaml: { file, data, at }, issues: issues.all };
}

function firstLine(message: string): string {
  if (message.includes("Maximum call stack")) {
    return `nested too deeply (at most ${MAX_DEPTH} levels)`;
  }
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * One pass over the syntax tree, without recursion: duplicate map keys, circular aliases, nesting
 * depth and the number of values after alias expansion (so `&a` reused 150 times is fine, but a
 * "billion laughs" is an error at the alias that crosses {@link MAX_EXPANDED_VALUES}).
 */
function checkStructure(doc: Document, report: (node: Node, message: string) => void): void {
  if (!doc.contents) return;
  // Pass 1, document order: anchors as the parser resolves them (the last one before the alias),
  // each alias's target, duplicate keys.
  const anchors = new Map<string, Node>();
  const targets = new Map<Node, Node>();
  let unresolved = false;
  const pending: Node[] = [doc.contents as Node];
  while (pending.length) {
    const node = pending.pop()!;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target) targets.set(node, target);
      else {
        report(node, `alias "*${node.source}" has no anchor "&${node.source}" before it`);
        unresolved = true;
      }
    } else if (isMap(node)) {
      const keys = new Set<unknown>();
      const next: Node[] = [];
      for (const pair of node.items) {
        if (pair.key && !isScalar(pair.key)) report(pair.key as Node, `a map key must be text`);
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (key !== undefined && keys.has(key)) {
          report(pair.key as Node, `duplicate key "${String(key).slice(0, 64)}"`);
        }
        keys.add(key);
        if (pair.key) next.push(pair.key as Node);
        if (pair.value) next.push(pair.value as Node);
      }
      for (let i = next.length - 1; i >= 0; i--) pending.push(next[i]);
    } else if (isSeq(node)) {
      const items = node.items as (Node | null)[];
      for (let i = items.length - 1; i >= 0; i--) if (items[i]) pending.push(items[i]!);
    }
  }
  if (unresolved) return;
  // Pass 2: size and height of every node with aliases expanded, memoized (linear in the tree).
  const done = new Map<Node, { size: number; height: number }>();
  const onPath = new Set<Node>();
  const children = (n: Node): Node[] => {
    if (isAlias(n)) return targets.has(n) ? [targets.get(n)!] : [];
    if (isMap(n)) return n.items.flatMap((p) => [p.key, p.value].filter(Boolean) as Node[]);
    if (isSeq(n)) return (n.items as Node[]).filter(Boolean);
    return [];
  };
  const stack = [{ node: doc.contents as Node, kids: children(doc.contents as Node), i: 0 }];
  onPath.add(doc.contents as Node);
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.i < top.kids.length) {
      const kid = top.kids[top.i++];
      if (done.has(kid)) continue;
      if (onPath.has(kid)) {
        return report(
          top.node,
          `alias "*${(top.node as { source?: string }).source}" refers to a node that contains it`,
        );
      }
      if (stack.length >= MAX_DEPTH) {
        return report(kid, `the recipe nests more than ${MAX_DEPTH} levels of maps and lists`);
      }
      onPath.add(kid);
      stack.push({ node: kid, kids: children(kid), i: 0 });
      continue;
    }
    stack.pop();
    onPath.delete(top.node);
    let size = isAlias(top.node) ? 0 : 1;
    let height = 0;
    for (const k of top.kids) {
      const d = done.get(k)!;
      size += d.size;
      height = Math.max(height, d.height + (isAlias(top.node) ? 0 : 1));
    }
    if (size > MAX_EXPANDED_VALUES) {
      const at = isAlias(top.node) ? top.node : top.kids.find((k) => isAlias(k)) ?? top.node;
      return report(
        at,
        `aliases expand the recipe to more than ${MAX_EXPANDED_VALUES} values; reuse smaller anchors`,
      );
    }
    if (height + stack.length > MAX_DEPTH) {
      return report(top.node, `the recipe nests more than ${MAX_DEPTH} levels of maps and lists`);
    }
    done.set(top.node, { size, height });
  }
}
