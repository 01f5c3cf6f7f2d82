/**
 * The one error path: every error a user can cause is a {@link StylepipeError}, carrying the exit
 * code the CLI ends with and, where the error is about one place in a file, that position. Any other
 * error is a fault in stylepipe itself (the CLI suggests `--debug` for those only).
 */

/** Process exit codes. */
export const EXIT = { ok: 0, failure: 1, invalid: 2, interrupted: 130 } as const;

/** A 1-based place in a file. */
export interface ErrorPosition {
  /** The file as the user named it. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Options of a {@link StylepipeError}. */
export interface StylepipeErrorOptions extends ErrorOptions {
  /** Where in a file the problem is; the message is prefixed with `file:line:col: `. */
  readonly position?: ErrorPosition;
}

/**
 * The base of stylepipe's error classes: an error a user can act on, whose `name` is its class's
 * name (so a family is one line, and messages print as `RecipeError: …`). A family whose exit code
 * is not {@link EXIT.failure} overrides {@link exitCode}.
 */
export class StylepipeError extends Error {
  /** The exit code of a command that ends with this error. */
  readonly exitCode: number = EXIT.failure;
  /** Where in a file the problem is, when it is about one place. */
  readonly position?: ErrorPosition;

  /** @param message what went wrong and, where possible, how to fix it */
  constructor(message: string, options?: StylepipeErrorOptions) {
    const at = options?.position;
    super(at ? `${formatPosition(at)}: ${message}` : message, options);
    this.name = new.target.name;
    this.position = at;
  }
}

/** `file:line:col`. */
export function formatPosition(at: ErrorPosition): string {
  return `${at.file}:${at.line}:${at.col}`;
}

/** The message of anything thrown (an `Error`'s message, else the value as a string). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
