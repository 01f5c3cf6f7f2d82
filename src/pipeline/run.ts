/**
 * The executor: runs a {@link Plan} in dependency order, independent steps concurrently (up to a
 * limit), taking outputs from the cache where their key is stored and verified. Cached values are
 * only read when a step that must run needs them. Cancellation (AbortSignal) stops before the next
 * step and is passed to running stages; stages and the cache write atomically, so nothing partial
 * is left behind.
 */
import { StylepipeError } from "../util/errors.ts";
import type { RgbImage } from "../image/image.ts";
import type { Engine } from "../neural/engines/engine.ts";
import { type StageContext, StageError, type Value } from "../stages/stage.ts";
import { type CacheRead, isFileKind } from "./cache.ts";
import type { EventSink, RunEvent, StepSummary } from "./events.ts";
import { defaultWeightsDirs } from "./locations.ts";
import { RunPaths } from "./paths.ts";
import type { Plan, PlannedStep } from "./plan.ts";
import { ancestors, ProvenanceCollector, sidecarPath } from "./provenance.ts";
import { UnserializableValueError } from "./serialize.ts";
import type { StepStore } from "./store.ts";

/** Creates the engine named in the recipe (`auto`, `onnx`, `wasm`, …). */
export type EngineFactory = (name: string) => Promise<Engine>;

/** Options for {@link runPlan}. */
export interface RunOptions {
  /** The step cache; `null` bypasses it (no reads, no writes). */
  readonly cache: StepStore | null;
  /** Cancels the run (Ctrl-C / SIGTERM). */
  readonly signal?: AbortSignal;
  /** Receives progress events. */
  readonly onEvent?: EventSink;
  /** Creates the engine on first use (default: the engine providers). */
  readonly engineFactory?: EngineFactory;
  /** Folders searched for model weights (default `$STYLEPIPE_WEIGHTS`, `./weights`). */
  readonly weightsDirs?: readonly string[];
  /** How many steps may compute at once (default 2). */
  readonly concurrency?: number;
  /** Live previews of optimizing steps, every `every` iterations. */
  readonly preview?: {
    readonly every: number;
    onPreview(step: string, image: RgbImage, iteration: number): void;
  };
}

/** What a run produced. */
export interface RunResult {
  /** Per-step outcome, in plan order. */
  readonly steps: readonly StepSummary[];
  /** Values that were computed or read from the cache (steps cached and not needed are absent). */
  readonly values: ReadonlyMap<string, Value>;
  /** Files written or confirmed. */
  readonly outputs: readonly string[];
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/** A step failed; `step` names it and `cause` is the stage's error. */
export class StepFailedError extends StylepipeError {
  /** @param step step id @param cause what the stage threw */
  constructor(readonly step: string, override readonly cause: unknown) {
    super(`step "${step}": ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The run was cancelled (no partial files were written). */
export class RunAbortedError extends StylepipeError {
  constructor() {
    super("cancelled; no partial files were written");
  }
}

/**
 * Runs a plan; throws {@link StepFailedError} or {@link RunAbortedError}.
 *
 * @example Render a recipe into a folder, without the cache
 * ```ts
 * import { loadRecipe } from "../recipe/load.ts";
 * import { planRecipe } from "./plan.ts";
 * const recipe = await loadRecipe("pipelines/photo-basics.yaml", { sets: { size: 32 } });
 * const plan = await planRecipe(recipe, { outDir: await Deno.makeTempDir() });
 * const result = await runPlan(plan, { cache: null });
 * console.log(result.outputs); // [ "/tmp/…/tubingen-basics.png" ]
 * ```
 */
export async function runPlan(plan: Plan, options: RunOptions): Promise<RunResult> {
  // The plan's cache entries are locked for the run, so `cache prune` leaves them alone.
  const release = await options.cache?.lock(plan.steps.map((p) => p.key));
  try {
    return await runLocked(plan, options);
  } finally {
    await release?.();
  }
}

async function runLocked(plan: Plan, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const emit = (e: RunEvent) => options.onEvent?.(e);
  const { cache } = options;
  const internal = new AbortController();
  const abortFromOutside = () => internal.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", abortFromOutside, { once: true });
  const signal = internal.signal;

  const byId = new Map(plan.steps.map((p) => [p.step.id, p]));
  const summaries = new Map<string, StepSummary>();
  const values = new Map<string, Value>();
  const paths = new RunPaths(plan.paths, plan.inputFiles);
  const weightsDirs = options.weightsDirs ?? defaultWeightsDirs();
  const limiter = new Limiter(options.concurrency ?? 2);
  let engine: Promise<Engine> | undefined;
  const getEngine = () => engine ??= (options.engineFactory ?? providersEngine)(plan.engine);
  const provenance = new ProvenanceCollector(plan, { cache, values, engine: getEngine });

  emit({ type: "run-started", recipe: plan.recipe.name, steps: plan.steps.map((p) => p.step.id) });

  // 1. What the cache holds. File values are verified now (the file must still match);
  //    other entries are verified when read.
  const probes = new Map<string, CacheRead | "present">();
  if (cache) {
    await Promise.all(plan.steps.map(async (p) => {
      if (isFileKind(p.step.stage.output)) probes.set(p.step.id, await cache.get(p.key));
      else if (await cache.has(p.key)) probes.set(p.step.id, "present");
    }));
  }
  const mustRun = (p: PlannedStep) => {
    const probe = probes.get(p.step.id);
    return probe === undefined || (probe !== "present" && probe.status !== "hit");
  };
  // A file-writing step records every step it depends on (provenance), so all its ancestors are
  // loaded (or recomputed when their entry is damaged or gone), not only its direct inputs.
  const upstream = (p: PlannedStep) =>
    ancestors(plan.recipe.steps, p.step.id).filter((id) => id !== p.step.id);
  const needed = new Set(
    plan.steps.filter(mustRun).flatMap((p) => p.step.stage.writesFiles ? upstream(p) : p.deps),
  );

  // 2. Produce values on demand (memoized), computing where the cache cannot serve.
  const memo = new Map<string, Promise<Value>>();
  const valueOf = (id: string): Promise<Value> => {
    let v = memo.get(id);
    if (!v) memo.set(id, v = produce(byId.get(id)!));
    return v;
  };

  const produce = async (p: PlannedStep): Promise<Value> => {
    const { id } = p.step;
    const probe = probes.get(id);
    if (cache && probe) {
      const read = probe === "present" ? await cache.get(p.key) : probe;
      if (read.status === "hit") {
        markCached(p, read.value);
        return read.value;
      }
      if (read.status === "corrupt") {
        emit({
          type: "step-warning",
          step: id,
          message: `cache entry damaged (${read.reason}); recomputing`,
        });
      }
    }
    if (p.step.stage.writesFiles) await Promise.all(upstream(p).map(valueOf));
    const inputs = await Promise.all(p.deps.map(valueOf));
    const inputOf = new Map(p.deps.map((d, i) => [d, inputs[i]]));
    return await limiter.run(async () => {
      if (signal.aborted) throw new RunAbortedError();
      return await compute(p, inputOf);
    });
  };

  const markCached = (p: PlannedStep, value: Value | undefined) => {
    if (value) values.set(p.step.id, value);
    summaries.set(p.step.id, { step: p.step.id, stage: p.step.use, status: "cached", seconds: 0 });
    emit({
      type: "step-cached",
      step: p.step.id,
      stage: p.step.use,
      output: value ? describeValue(value) : undefined,
    });
  };

  const compute = async (p: PlannedStep, inputOf: Map<string, Value>): Promise<Value> => {
    const { id, use, stage } = p.step;
    emit({ type: "step-started", step: id, stage: use, key: p.key });
    const t0 = performance.now();
    const ctx: StageContext = {
      stepId: id,
      signal,
      seed: p.seed,
      progress: (progress) =>
        emit({
          type: "step-progress",
          step: id,
          progress,
          elapsed: (performance.now() - t0) / 1000,
        }),
      warn: (message) => emit({ type: "step-warning", step: id, message }),
      note: (message) => emit({ type: "step-note", step: id, message }),
      inputSteps: p.step.inputs,
      preview: options.preview && {
        every: options.preview.every,
        put: (image, iteration) => options.preview!.onPreview(id, image, iteration),
      },
      paths,
      weightsDirs,
      engine: getEngine,
      checkpoints: cache ? cache.checkpoints(p.key) : memoryCheckpoints(),
      stampOutput: (path, bytes) => provenance.stamp(id, path, bytes),
    };
    const stageInputs = Object.fromEntries(
      Object.entries(p.step.inputs).map(([name, ids]) => {
        const vals = ids.map((d) => inputOf.get(d)!);
        return [name, stage.inputs[name].many ? vals : vals[0]];
      }),
    );
    let value: Value;
    try {
      value = await stage.run(ctx, stageInputs, p.step.params);
      if (value?.kind !== stage.output) {
        throw new StageError(
          `stage "${use}" returned ${value?.kind ?? "nothing"}, not ${stage.output}`,
        );
      }
    } catch (e) {
      if (signal.aborted) {
        summaries.set(id, { step: id, stage: use, status: "cancelled", seconds: secondsSince(t0) });
        throw new RunAbortedError();
      }
      summaries.set(id, { step: id, stage: use, status: "failed", seconds: secondsSince(t0) });
      emit({ type: "step-failed", step: id, stage: use, message: messageOf(e) });
      throw new StepFailedError(id, e);
    }
    const seconds = secondsSince(t0);
    summaries.set(id, { step: id, stage: use, status: "ran", seconds });
    if (value.kind === "file" && provenance.stamped(value.path)) {
      // The sidecar is written as soon as its output is (before the cache entry that would skip
      // the step next time), so a later failure or crash cannot leave the output without one.
      try {
        paths.output(sidecarPath(value.path));
        await provenance.writeSidecar(value.path, [...summaries.values()]);
      } catch (e) {
        summaries.set(id, { step: id, stage: use, status: "failed", seconds });
        emit({ type: "step-failed", step: id, stage: use, message: `sidecar: ${messageOf(e)}` });
        throw new StepFailedError(id, e);
      }
    }
    if (cache) {
      try {
        await cache.put(p.key, value);
      } catch (e) {
        if (!(e instanceof UnserializableValueError)) throw e;
        emit({ type: "step-warning", step: id, message: `not cached: ${e.message}` });
      }
    }
    values.set(id, value);
    emit({ type: "step-finished", step: id, stage: use, seconds, output: describeValue(value) });
    return value;
  };

  // 3. Drive every step; the first failure cancels the rest.
  const outcomes = await Promise.allSettled(plan.steps.map(async (p) => {
    if (!mustRun(p) && !needed.has(p.step.id)) {
      const probe = probes.get(p.step.id)!;
      markCached(p, probe !== "present" && probe.status === "hit" ? probe.value : undefined);
      return;
    }
    try {
      await valueOf(p.step.id);
    } catch (e) {
      internal.abort(e);
      throw e;
    }
  }));
  options.signal?.removeEventListener("abort", abortFromOutside);
  if (engine) await (await engine.catch(() => undefined))?.dispose();

  const steps = plan.steps.map((p): StepSummary =>
    summaries.get(p.step.id) ??
      { step: p.step.id, stage: p.step.use, status: "skipped", seconds: 0 }
  );
  const outputs = [...values.values()].flatMap((v) => v.kind === "file" ? [v.path] : []);
  const seconds = secondsSince(started);
  const failure = outcomes.map((o) => o.status === "rejected" ? o.reason : undefined)
    .find((r) => r instanceof StepFailedError) ??
    outcomes.find((o) => o.status === "rejected")?.reason;
  emit({
    type: "run-finished",
    ok: !failure,
    aborted: !!failure && !(failure instanceof StepFailedError),
    seconds,
    steps,
    outputs,
  });
  if (failure) throw failure instanceof StepFailedError ? failure : toAbort(failure);
  return { steps, values, outputs, seconds };
}

function toAbort(e: unknown): unknown {
  return e instanceof RunAbortedError || (e instanceof DOMException && e.name === "AbortError")
    ? new RunAbortedError()
    : e;
}

/** A one-line description of a value for events (`image 512×384`, `file out/x.png`). */
export function describeValue(v: Value): string {
  switch (v.kind) {
    case "image":
      return `image ${v.image.width}×${v.image.height}`;
    case "features":
      return `features ${v.features.width}×${v.features.height}`;
    case "file":
      return `file ${v.path}`;
  }
}

function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Checkpoints kept in memory (with `--no-cache` nothing survives the process). */
function memoryCheckpoints() {
  const store = new Map<string, Uint8Array>();
  return {
    get: (name: string) => Promise.resolve(store.get(name)),
    put: (name: string, bytes: Uint8Array) => {
      store.set(name, bytes.slice());
      return Promise.resolve();
    },
    clear: () => {
      store.clear();
      return Promise.resolve();
    },
  };
}

/** Creates an engine through the engine providers (loaded only when a stage asks for one). */
async function providersEngine(name: string): Promise<Engine> {
  const { createEngine } = await import("../neural/engines/providers.ts");
  return await createEngine(name);
}

/** Runs at most `limit` tasks at a time. */
class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
