/**
 * The cache-key rule, in one place: a step's key is the SHA-256 of the canonical JSON of what its
 * output depends on — the stage's name and version, its parsed parameters, the keys of the steps it
 * reads, the contents of the files it reads and the identity of the model weights it reads; the
 * derived seed and the resolved engine only for stages that use the engine, the memory fit (tile,
 * L-BFGS pairs) only where the plan set one, and the output folder only for stages that write
 * files. Nothing else enters it (not the step id, except through an
 * engine stage's seed; not the folder an input was found in; not parameter order), so equal work
 * is found again under another name. Changing this rule orphans every stored entry.
 */
import type { MemoryFit, Stage } from "../stages/stage.ts";
import { sha256Hex } from "../util/hash.ts";
import { canonicalJson } from "./canonical_json.ts";

/** What a step's cache key is computed from. */
export interface StepKeyFacts {
  /** The stage: its name, version and which run facts its output depends on. */
  readonly stage: Pick<Stage, "name" | "version" | "usesEngine" | "writesFiles">;
  /** The parsed parameters. */
  readonly params: unknown;
  /** Input name → the cache keys of the steps feeding it, in order. */
  readonly inputKeys: Readonly<Record<string, readonly string[]>>;
  /** The SHA-256 of each file the step reads, in the stage's declaration order. */
  readonly fileHashes: readonly string[];
  /** Model name → identity of its weight files (`null` when no folder has the model). */
  readonly models: Readonly<Record<string, string | null>>;
  /** The step's derived seed. */
  readonly seed: number;
  /** The resolved engine name (never `auto`). */
  readonly engine: string;
  /** The absolute output folder. */
  readonly outDir: string;
  /** How the plan fitted the step into the memory budget (tiling changes the summation order). */
  readonly fit?: MemoryFit;
}

/** The cache key of a step (64 hex digits). */
export function stepKey(facts: StepKeyFacts): string {
  const { stage } = facts;
  return sha256Hex(canonicalJson({
    stage: stage.name,
    version: stage.version,
    params: facts.params,
    seed: stage.usesEngine ? facts.seed : undefined,
    engine: stage.usesEngine ? facts.engine : undefined,
    fit: facts.fit,
    inputs: facts.inputKeys,
    files: facts.fileHashes,
    models: Object.keys(facts.models).length ? facts.models : undefined,
    outDir: stage.writesFiles ? facts.outDir : undefined,
  }));
}
