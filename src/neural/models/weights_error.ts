/** The error type for everything that can go wrong finding, verifying, reading or importing weights. */

/**
 * A weights problem the user can act on (folder missing, checksum mismatch, unsupported format,
 * absent layer). The message is one readable sentence naming the file or layer concerned.
 */
export class WeightsError extends Error {
  /** Creates the error; `cause` keeps the underlying exception for `--debug`. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WeightsError";
  }
}
