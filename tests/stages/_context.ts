/**
 * A real {@link StageContext} for stage tests: files live in a temporary (or given) directory that
 * doubles as the output directory, input paths resolve against it and then against the example
 * images folder, checkpoints are stored as files, progress and warnings are recorded for asserts.
 *
 * Shared by every engineer's stage tests; keep it dependency-free apart from the stage contract.
 */
import { fileURLToPath } from "node:url";
import { isAbsolute, join, relative, resolve } from "node:path";
import type {
  CheckpointStore,
  PathResolver,
  Stage,
  StageContext,
  StageProgress,
  Value,
} from "../../src/stages/stage.ts";
import type { RgbImage } from "../../src/image/image.ts";
import { StageError } from "../../src/stages/stage.ts";
import type { Engine } from "../../src/neural/engines/engine.ts";
import { atomicWrite } from "../../src/util/atomic_write.ts";

/** The repository root (tests run from it, but this does not rely on that). */
export const repoRoot: string = fileURLToPath(new URL("../../", import.meta.url));

/** Example images folder: `$STYLEPIPE_IMAGES`, else `../shared/images` beside the repository. */
export function testImagesDir(): string {
  return Deno.env.get("STYLEPIPE_IMAGES") ?? resolve(repoRoot, "../shared/images");
}

/** Weights folders: `$STYLEPIPE_WEIGHTS`, else `../shared/weights` beside the repository. */
export function testWeightsDirs(): string[] {
  return [Deno.env.get("STYLEPIPE_WEIGHTS") ?? resolve(repoRoot, "../shared/weights")];
}

/** Options of {@link makeTestContext}. */
export interface TestContextOptions {
  /** Working/output directory; a fresh temporary directory when absent. */
  dir?: string;
  /** Paths (relative to `dir` or absolute) that count as recipe inputs (never overwritten). */
  inputs?: string[];
  /** Allow output paths outside `dir`. */
  allowOutside?: boolean;
  /** The step seed (default 42). */
  seed?: number;
  /** Engine factory; without it `engine()` rejects with a {@link StageError}. */
  engine?: () => Promise<Engine>;
  /** Step id (default "test"). */
  stepId?: string;
  /** Abort signal (default: never aborted). */
  signal?: AbortSignal;
}

/** The context plus what tests want to look at afterwards. */
export interface TestContext extends StageContext {
  /** The working/output directory. */
  readonly dir: string;
  /** Every progress report, in order. */
  readonly progressReports: StageProgress[];
  /** Every warning, in order. */
  readonly warnings: string[];
  /** Notes the stage reported. */
  readonly notes: string[];
  /** Removes `dir` if this helper created it. */
  dispose(): Promise<void>;
}

/** Builds a {@link StageContext} backed by a real directory. */
export async function makeTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const created = options.dir === undefined;
  const dir = resolve(options.dir ?? await Deno.makeTempDir({ prefix: "stylepipe-test-" }));
  const inputs = new Set((options.inputs ?? []).map((p) => resolve(dir, p)));
  const progressReports: StageProgress[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  let engine: Promise<Engine> | undefined;

  const paths: PathResolver = {
    inputs,
    async input(path: string): Promise<string> {
      const candidates = isAbsolute(path)
        ? [path]
        : [resolve(dir, path), join(testImagesDir(), path)];
      for (const candidate of candidates) {
        if (await isFile(candidate)) {
          inputs.add(candidate);
          return candidate;
        }
      }
      throw new StageError(`input file "${path}" not found (looked in ${candidates.join(", ")})`);
    },
    output(path: string): string {
      const full = resolve(dir, path);
      const rel = relative(dir, full);
      const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
      if (!inside && !options.allowOutside) {
        throw new StageError(
          `output path "${path}" is outside the output directory ${dir} (allow it in the recipe)`,
        );
      }
      return full;
    },
  };

  const checkpointDir = join(dir, ".checkpoints", options.stepId ?? "test");
  const checkpoints: CheckpointStore = {
    async get(name) {
      try {
        return await Deno.readFile(join(checkpointDir, name));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
    },
    put: (name, bytes) => atomicWrite(join(checkpointDir, name), bytes),
    clear: () => Deno.remove(checkpointDir, { recursive: true }).catch(() => {}),
  };

  return {
    dir,
    stepId: options.stepId ?? "test",
    signal: options.signal ?? new AbortController().signal,
    seed: options.seed ?? 42,
    progress: (p) => void progressReports.push(p),
    warn: (m) => void warnings.push(m),
    note: (m) => void notes.push(m),
    paths,
    weightsDirs: testWeightsDirs(),
    engine() {
      if (!options.engine) {
        return Promise.reject(
          new StageError("no engine in this test context (pass options.engine)"),
        );
      }
      engine ??= options.engine();
      return engine;
    },
    checkpoints,
    progressReports,
    warnings,
    notes,
    async dispose() {
      if (created) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Parses `params` with the stage's schema (defaults applied) and runs the stage. A synchronous throw
 * from `run` becomes a rejection, as it does in the runner's `await`.
 */
export async function runStage<P>(
  stage: Stage<P>,
  ctx: StageContext,
  inputs: Record<string, Value | Value[] | undefined>,
  params: unknown = {},
): Promise<Value> {
  return await stage.run(ctx, inputs, stage.params.parse(params));
}

/** Wraps an image as a step value. */
export function imageValue(image: RgbImage): Value {
  return { kind: "image", image };
}
