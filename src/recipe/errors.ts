/**
 * Recipe errors: every problem found in a recipe, each with the file position it refers to, all
 * reported at once and formatted `recipe.yaml:LINE:COL: step "id": message`.
 */
import { type ErrorPosition, EXIT, formatPosition, StylepipeError } from "../util/errors.ts";
import { printable } from "../util/printable.ts";

/** A 1-based line/column in the recipe file. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** One problem in a recipe. */
export interface RecipeIssue {
  /** The recipe file as the user named it. */
  readonly file: string;
  /** Where in the file (1:1 when the problem has no better place, e.g. a `--set` override). */
  readonly pos: Position;
  /** The step the problem belongs to, if any. */
  readonly step?: string;
  /** What is wrong and, where possible, what to do. */
  readonly message: string;
}

/** Formats one issue as `file:line:col: step "id": message`. */
export function formatIssue(issue: RecipeIssue): string {
  const where = formatPosition({ file: issue.file, ...issue.pos });
  const step = issue.step === undefined ? "" : `step "${issue.step}": `;
  // Paths and values in messages come from files and command lines: never raw to a terminal.
  return printable(`${where}: ${step}${issue.message}`);
}

/** Orders issues by position, so the report reads top to bottom. */
export function sortIssues(issues: readonly RecipeIssue[]): RecipeIssue[] {
  return [...issues].sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}

/** A recipe that cannot run; carries every issue found, one per message line (exit code 2). */
export class RecipeError extends StylepipeError {
  override readonly exitCode = EXIT.invalid;
  /** The first issue's place (each line of the message starts with its own). */
  override readonly position?: ErrorPosition;
  /** The issues, sorted by position. */
  readonly issues: readonly RecipeIssue[];

  /** @param issues every problem found (at least one) */
  constructor(issues: readonly RecipeIssue[]) {
    const sorted = sortIssues(issues);
    super(sorted.map(formatIssue).join("\n"));
    this.issues = sorted;
    this.position = sorted[0] && { file: sorted[0].file, ...sorted[0].pos };
  }
}

/** Collects issues for one recipe file while checking it. */
export class IssueList {
  readonly #issues: RecipeIssue[] = [];

  /** @param file the recipe file as the user named it */
  constructor(readonly file: string) {}

  /** Records a problem at `pos`, optionally attributed to a step. */
  add(pos: Position, message: string, step?: string): void {
    this.#issues.push({ file: this.file, pos, step, message });
  }

  /** Whether nothing was recorded. */
  get empty(): boolean {
    return this.#issues.length === 0;
  }

  /** Everything recorded so far. */
  get all(): readonly RecipeIssue[] {
    return this.#issues;
  }

  /** Throws a {@link RecipeError} when anything was recorded. */
  throwIfAny(): void {
    if (!this.empty) throw new RecipeError(this.#issues);
  }
}
