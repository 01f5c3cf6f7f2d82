/** The package version, read from deno.json (the one place it is written). */
import config from "../deno.json" with { type: "json" };

/** stylepipe's version, e.g. `0.1.0`. */
export const STYLEPIPE_VERSION: string = config.version;
