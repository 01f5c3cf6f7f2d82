/**
 * YAML → plain data plus a position lookup: recipes are parsed with the `yaml` package (YAML 1.2),
 * keeping node ranges so every later error can point at `line:col` in the file.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { IssueList, type Position, type RecipeIssue } from "./errors.ts";

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues = new IssueList(file);
  for (const e of [...doc.errors]) {
    const offset = e.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    issues.add({ line, col }, `YAML syntax: ${firstLine(e.message)}`);
  }
  const toPos = (offset: number | undefined): Position =>
    offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);

  const at = (path: DataPath, key = false): Position => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      let next: unknown;
      let nextKey: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
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

  const data = issues.empty ? doc.toJS({ maxAliasCount: 100 }) : undefined;
  return { yaml: { file, data, at }, issues: issues.all };
}

function firstLine(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
