/** Where stylepipe looks for model weights and example images (environment, then repo defaults). */

/** Folders searched for model weights: `$STYLEPIPE_WEIGHTS`, then `./weights`. */
export function defaultWeightsDirs(): string[] {
  return dirsFrom("STYLEPIPE_WEIGHTS", "weights");
}

/** Folders searched for input images after the recipe's folder: `$STYLEPIPE_IMAGES`, then `./pipelines/images`. */
export function defaultImageDirs(): string[] {
  return dirsFrom("STYLEPIPE_IMAGES", "pipelines/images");
}

function dirsFrom(envVar: string, fallback: string): string[] {
  const fromEnv = Deno.env.get(envVar);
  return fromEnv ? [fromEnv, fallback] : [fallback];
}
