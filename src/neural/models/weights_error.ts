/** The error type for everything that can go wrong finding, verifying, reading or importing weights. */
import { StylepipeError } from "../../util/errors.ts";

/**
 * A weights problem the user can act on (folder missing, checksum mismatch, unsupported format,
 * absent layer). The message is one readable sentence naming the file or layer concerned.
 */
export class WeightsError extends StylepipeError {}
