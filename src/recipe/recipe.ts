/** The validated recipe: what the planner and runner consume (no YAML, no variables left). */
import type { Stage } from "../stages/stage.ts";
import type { StageRegistry } from "../stages/registry.ts";
import type { Position } from "./errors.ts";
import type { DataPath } from "./parse.ts";

/** A step as written (after interpolation), before validation: extensions produce these too. */
export interface RawStep {
  readonly id?: unknown;
  readonly use?: unknown;
  readonly from?: unknown;
  readonly with?: unknown;
  /** Where the step is in the recipe data (for error positions), e.g. `["steps", 2]`. */
  readonly path: DataPath;
  /** Keys other than id/use/from/with, reported as unknown. */
  readonly extraKeys?: readonly string[];
}

/** One validated step. */
export interface RecipeStep {
  /** Unique id. */
  readonly id: string;
  /** Stage name. */
  readonly use: string;
  /** The stage. */
  readonly stage: Stage<unknown>;
  /** Parameters parsed by the stage's schema (defaults applied). */
  readonly params: unknown;
  /** Input name → ids of the steps feeding it (a list even for single inputs). */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  /** Where the step starts in the file. */
  readonly pos: Position;
  /** Where the step is in the recipe data (for positions of its parameters). */
  readonly path: DataPath;
}

/** A recipe that passed validation. */
export interface Recipe {
  /** The recipe file as the user named it (used in messages). */
  readonly file: string;
  /** Folder of the recipe (relative inputs and plugins resolve against it). */
  readonly dir: string;
  /** `name:` (defaults to the file name without extension). */
  readonly name: string;
  /** `seed:` (default 0); each step's seed is derived from it and the step id. */
  readonly seed: number;
  /** `engine:` after `--engine` (default `auto`). */
  readonly engine: string;
  /** Variables after `--set` overrides. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Whether `save` may write outside the output directory. */
  readonly allowOutsideOutput: boolean;
  /** The recipe file and its plugins' local modules (absolute): never overwritten by an output. */
  readonly files: readonly string[];
  /** Steps in file order (the planner orders them). */
  readonly steps: readonly RecipeStep[];
  /** Built-in stages plus the recipe's plugins. */
  readonly registry: StageRegistry;
  /** Maps a data path to its position in the file. */
  at(path: DataPath, key?: boolean): Position;
}
