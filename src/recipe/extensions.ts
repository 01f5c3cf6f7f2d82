/**
 * Recipe extensions: a top-level key (e.g. `matrix:`, `schedule:`) handled by its own module,
 * which may add steps or record settings. The loader accepts the keys of the extensions it is given
 * and calls each one whose key is present, after variables are interpolated.
 */
import type { IssueList, Position } from "./errors.ts";
import type { ExpansionBudget } from "./interpolate.ts";
import type { DataPath } from "./parse.ts";
import type { RawStep } from "./recipe.ts";

/** What an extension may read and change while a recipe loads. */
export interface ExtensionContext {
  /** The steps so far (from `steps:` and earlier extensions); an extension may replace or add to them. */
  steps: RawStep[];
  /** The interpolated top-level recipe data (keys in {@link RecipeExtension.defers} as written). */
  readonly recipe: Readonly<Record<string, unknown>>;
  /** The recipe's folder (relative paths resolve against it). */
  readonly dir: string;
  /** The variables, after `--set` overrides. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** The `--set` overrides alone (an extension may let them replace its own settings). */
  readonly sets: Readonly<Record<string, unknown>>;
  /** What expanding variables may still cost (an extension interpolating pays through it). */
  readonly budget?: ExpansionBudget;
  /** Where to report problems. */
  readonly issues: IssueList;
  /** Position of a data path in the file. */
  at(path: DataPath, key?: boolean): Position;
}

/** A module that owns one top-level recipe key. */
export interface RecipeExtension {
  /** The top-level key, e.g. `matrix`. */
  readonly key: string;
  /**
   * Top-level keys the loader leaves un-interpolated when this key is present, because the
   * extension interpolates them itself (e.g. `matrix:` interpolates `steps` once per combination).
   */
  readonly defers?: readonly string[];
  /** Names of the variables the key's value defines (`--set` may name them too). */
  variables?(value: unknown): readonly string[];
  /** Expands or records the key's value (already interpolated). */
  apply(value: unknown, ctx: ExtensionContext): void | Promise<void>;
}
