/**
 * Bounds on what a recipe may ask of the validator, each reported as a positioned error: a hostile
 * or careless recipe must fail fast with a message, never exhaust time, memory or the call stack.
 */

/** Largest recipe file read (bytes). */
export const MAX_RECIPE_BYTES = 1024 * 1024;
/** Deepest nesting of maps and lists, counted after aliases are expanded. */
export const MAX_DEPTH = 64;
/** Most values (map keys and values, list items) the data may hold after aliases are expanded. */
export const MAX_EXPANDED_VALUES = 1_000_000;
/** Most characters of text the recipe's strings may hold after `${variables}` are expanded. */
export const MAX_EXPANDED_CHARS = 8_000_000;
/** Most combinations a `matrix:` may produce. */
export const MAX_COMBINATIONS = 1000;
/** Most steps a recipe may have after its extensions (`matrix:`, `scales:`) are expanded. */
export const MAX_STEPS = 10_000;
/** Longest step id, stage name, variable name or matrix key. */
export const MAX_NAME_LENGTH = 128;
/** Names longer than this get no did-you-mean (edit distance costs length × candidate length). */
export const MAX_SUGGEST_LENGTH = 64;
/** Unknown names of one kind (step ids, variables) that get a did-you-mean; the rest get none. */
export const MAX_SUGGESTIONS = 20;
