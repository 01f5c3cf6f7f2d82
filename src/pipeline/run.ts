/**
 * The executor: runs a {@link Plan} in dependency order, independent steps concurrently (up to a
 * limit), taking outputs from the cache where their key is stored and verified. Cached values are
 * only read when a step that must run needs them. Cancellation (AbortSignal) stops before the next
 * step and is passed to running stages; stages and the cache write atomically, so nothing partial
 * is left behind.
 */
import { EXIT, messageOf, StylepipeError } from "../util/errors.ts";
import type { RgbImage } from "../image/image.ts";
import type { Engine } from "../neural/engines/engine.ts";
import { type StageContext, StageError, type Value } from "../stages/stage.ts";
import { isFileKind } from "./cache.ts";
import type { EventSink, RunEvent, StepSummary } from "./events.ts";
import { defaultWeightsDirs } from "./locations.ts";
import { RunPaths, sidecarPath } from "./paths.ts";
import type { Plan, PlannedStep } from "./plan.ts";
import { ancestors, ProvenanceCollector } from "./provenance.ts";
import { UnserializableValueError } from "./serialize.ts";
import type { CacheRead, StepStore } from "./store.ts";

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
  /**
   * Keep every step's pixels until the run ends. Default: a step's pixels are released as soon as
   * the last step reading it has run, so the run's peak is the images alive at once, not all.
   */
  readonly keepIntermediates?: boolean;
}

/** What a run produced. */
export interface RunResult {
  /** Per-step outcome, in plan order. */
  readonly steps: readonly StepSummary[];
  /**
   * Values that were computed or read from the cache (steps cached and not needed are absent);
   * a step read by later steps has its pixels released (empty) unless `keepIntermediates`.
   */
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
    super(`step "${step}": ${messageOf(cause)}`);
  }
}

/** The run was cancelled (no partial files were written). */
export class RunAbortedError extends StylepipeError {
  override readonly exitCode = EXIT.interrupted;
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

/** Runs a plan whose cache entries are locked: probe, find the needed steps, run them, record. */
async function runLocked(plan: Plan, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const execution = new Execution(plan, options);
  execution.emit({
    type: "run-started",
    recipe: plan.recipe.name,
    steps: plan.steps.map((p) => p.step.id),
  });
  const probes = await probeCache(plan, options.cache);
  const needed = neededSteps(plan, probes);
  const outcomes = await execution.runAll(probes, needed);
  return record(execution, outcomes, secondsSince(started));
}

/** What the cache holds for a step: a verified read, or `present` (verified when read). */
type Probe = CacheRead | "present";

/**
 * Phase 1, probe: what the cache holds, by step id. File values are verified now (the file must
 * still match); other entries are verified when read.
 */
async function probeCache(plan: Plan, cache: StepStore | null): Promise<Map<string, Probe>> {
  const probes = new Map<string, Probe>();
  if (cache) {
    await Promise.all(plan.steps.map(async (p) => {
      if (isFileKind(p.step.stage.output)) probes.set(p.step.id, await cache.get(p.key));
      else if (await cache.has(p.key)) probes.set(p.step.id, "present");
    }));
  }
  return probes;
}

/** Whether the cache cannot serve a step: no entry, or a file value that failed verification. */
function mustRun(probe: Probe | undefined): boolean {
  return probe === undefined || (probe !== "present" && probe.status !== "hit");
}

/** The steps a step depends on, itself excluded (a file-writing step records them all). */
function upstreamOf(plan: Plan, p: PlannedStep): string[] {
  return ancestors(plan.recipe.steps, p.step.id).filter((id) => id !== p.step.id);
}

/**
 * Phase 2, plan the needed steps: the cached steps whose values must be loaded (or recomputed when
 * their entry is damaged or gone) — the inputs of every step that must run, and all the ancestors
 * of a file-writing one, since its provenance records every step it depends on.
 */
function neededSteps(plan: Plan, probes: ReadonlyMap<string, Probe>): Set<string> {
  return new Set(
    plan.steps.filter((p) => mustRun(probes.get(p.step.id)))
      .flatMap((p) => p.step.stage.writesFiles ? upstreamOf(plan, p) : p.deps),
  );
}

/**
 * Phase 3, run: one run's state, producing values on demand (memoized) from the cache or by
 * computing them, independent steps concurrently up to the limit; the first failure cancels the rest.
 */
class Execution {
  readonly plan: Plan;
  readonly options: RunOptions;
  /** Per-step outcome, by step id (steps never reached are absent). */
  readonly summaries = new Map<string, StepSummary>();
  /** Values computed or read from the cache, by step id. */
  readonly values = new Map<string, Value>();
  readonly #internal = new AbortController();
  readonly #abortFromOutside = () => this.#internal.abort(this.options.signal?.reason);
  readonly #byId: ReadonlyMap<string, PlannedStep>;
  readonly #paths: RunPaths;
  readonly #weightsDirs: readonly string[];
  readonly #limiter: Limiter;
  readonly #provenance: ProvenanceCollector;
  readonly #memo = new Map<string, Promise<Value>>();
  /** Steps still to read each step's value (its pixels are released at 0). */
  readonly #readers = new Map<string, number>();
  #probes: ReadonlyMap<string, Probe> = new Map();
  #engine: Promise<Engine> | undefined;

  /** Starts listening to the caller's signal (a cancellation from now on reaches every stage). */
  constructor(plan: Plan, options: RunOptions) {
    this.plan = plan;
    this.options = options;
    options.signal?.addEventListener("abort", this.#abortFromOutside, { once: true });
    this.#byId = new Map(plan.steps.map((p) => [p.step.id, p]));
    this.#paths = new RunPaths(plan.paths, plan.inputFiles);
    this.#weightsDirs = options.weightsDirs ?? defaultWeightsDirs();
    this.#limiter = new Limiter(options.concurrency ?? 2);
    this.#provenance = new ProvenanceCollector(plan, {
      cache: options.cache,
      values: this.values,
      engine: this.#getEngine,
    });
    for (const p of plan.steps) {
      for (const d of new Set(p.deps)) this.#readers.set(d, (this.#readers.get(d) ?? 0) + 1);
    }
  }

  /**
   * After `p` ran (or failed, or was served from the cache): release the pixels of its inputs that
   * no later step reads, and of the ancestors a file-writer awaited only for their provenance.
   */
  #doneReading(p: PlannedStep): void {
    if (this.options.keepIntermediates) return;
    for (const d of new Set(p.deps)) this.#readers.set(d, (this.#readers.get(d) ?? 1) - 1);
    const seen = p.step.stage.writesFiles ? [...p.deps, ...upstreamOf(this.plan, p)] : p.deps;
    for (const d of new Set(seen)) {
      const value = this.values.get(d);
      if ((this.#readers.get(d) ?? 0) > 0 || !value) continue;
      const light = withoutPixels(value);
      this.values.set(d, light);
      this.#memo.set(d, Promise.resolve(light));
    }
  }

  /** Sends a progress event. */
  emit(e: RunEvent): void {
    this.options.onEvent?.(e);
  }

  /**
   * Drives every step: a cached step nobody needs is only marked cached, the others are produced.
   * Stops listening to the caller's signal and disposes of the engine when all have settled.
   */
  async runAll(
    probes: ReadonlyMap<string, Probe>,
    needed: ReadonlySet<string>,
  ): Promise<PromiseSettledResult<void>[]> {
    this.#probes = probes;
    const outcomes = await Promise.allSettled(this.plan.steps.map(async (p) => {
      const probe = probes.get(p.step.id);
      if (!mustRun(probe) && !needed.has(p.step.id)) {
        this.#markCached(
          p,
          probe !== "present" && probe?.status === "hit" ? probe.value : undefined,
        );
        this.#doneReading(p); // it reads nothing
        return;
      }
      try {
        await this.#valueOf(p.step.id);
      } catch (e) {
        this.#internal.abort(e);
        throw e;
      }
    }));
    this.options.signal?.removeEventListener("abort", this.#abortFromOutside);
    if (this.#engine) await (await this.#engine.catch(() => undefined))?.dispose();
    return outcomes;
  }

  /** The engine, created on first use. */
  readonly #getEngine = (): Promise<Engine> =>
    this.#engine ??= (this.options.engineFactory ?? providersEngine)(this.plan.engine);

  #valueOf(id: string): Promise<Value> {
    let v = this.#memo.get(id);
    if (!v) {
      const p = this.#byId.get(id)!;
      v = this.#produce(p).finally(() => this.#doneReading(p));
      this.#memo.set(id, v);
    }
    return v;
  }

  /** A step's value: from the cache where it verifies, else computed from its inputs' values. */
  async #produce(p: PlannedStep): Promise<Value> {
    const { id } = p.step;
    const { cache } = this.options;
    const probe = this.#probes.get(id);
    if (cache && probe) {
      const read = probe === "present" ? await cache.get(p.key) : probe;
      if (read.status === "hit") {
        this.#markCached(p, read.value);
        return read.value;
      }
      if (read.status === "corrupt") {
        this.emit({
          type: "step-warning",
          step: id,
          message: `cache entry damaged (${read.reason}); recomputing`,
        });
      }
    }
    if (p.step.stage.writesFiles) {
      await Promise.all(upstreamOf(this.plan, p).map((d) => this.#valueOf(d)));
    }
    const inputs = await Promise.all(p.deps.map((d) => this.#valueOf(d)));
    const inputOf = new Map(p.deps.map((d, i) => [d, inputs[i]]));
    return await this.#limiter.run(async () => {
      if (this.#internal.signal.aborted) throw new RunAbortedError();
      return await this.#compute(p, inputOf);
    });
  }

  #markCached(p: PlannedStep, value: Value | undefined): void {
    if (value) this.values.set(p.step.id, value);
    this.summaries.set(p.step.id, {
      step: p.step.id,
      stage: p.step.use,
      status: "cached",
      seconds: 0,
    });
    this.emit({
      type: "step-cached",
      step: p.step.id,
      stage: p.step.use,
      output: value ? describeValue(value) : undefined,
    });
  }

  /** Runs a step's stage, then writes its output's sidecar and its cache entry. */
  async #compute(p: PlannedStep, inputOf: ReadonlyMap<string, Value>): Promise<Value> {
    const { id, use, stage } = p.step;
    this.emit({ type: "step-started", step: id, stage: use, key: p.key });
    const t0 = performance.now();
    const stageInputs = Object.fromEntries(
      Object.entries(p.step.inputs).map(([name, ids]) => {
        const vals = ids.map((d) => inputOf.get(d)!);
        return [name, stage.inputs[name].many ? vals : vals[0]];
      }),
    );
    let value: Value;
    try {
      value = await stage.run(this.#context(p, t0), stageInputs, p.step.params);
      if (value?.kind !== stage.output) {
        throw new StageError(
          `stage "${use}" returned ${value?.kind ?? "nothing"}, not ${stage.output}`,
        );
      }
    } catch (e) {
      if (this.#internal.signal.aborted) {
        this.summaries.set(id, {
          step: id,
          stage: use,
          status: "cancelled",
          seconds: secondsSince(t0),
        });
        throw new RunAbortedError();
      }
      this.#fail(p, secondsSince(t0), messageOf(e), e);
    }
    const seconds = secondsSince(t0);
    this.summaries.set(id, { step: id, stage: use, status: "ran", seconds });
    if (value.kind === "file" && this.#provenance.stamped(value.path)) {
      // The sidecar is written as soon as its output is (before the cache entry that would skip
      // the step next time), so a later failure or crash cannot leave the output without one.
      try {
        this.#paths.output(sidecarPath(value.path));
        await this.#provenance.writeSidecar(value.path, [...this.summaries.values()]);
      } catch (e) {
        this.#fail(p, seconds, `sidecar: ${messageOf(e)}`, e);
      }
    }
    await this.#store(p, value);
    this.values.set(id, value);
    this.emit({
      type: "step-finished",
      step: id,
      stage: use,
      seconds,
      output: describeValue(value),
    });
    return value;
  }

  /** Records a step as failed and throws {@link StepFailedError}. */
  #fail(p: PlannedStep, seconds: number, message: string, cause: unknown): never {
    const { id, use } = p.step;
    this.summaries.set(id, { step: id, stage: use, status: "failed", seconds });
    this.emit({ type: "step-failed", step: id, stage: use, message });
    throw new StepFailedError(id, cause);
  }

  /** Stores a computed value under its key (a value that cannot be serialized is only warned about). */
  async #store(p: PlannedStep, value: Value): Promise<void> {
    const { cache } = this.options;
    if (!cache) return;
    try {
      await cache.put(p.key, value);
    } catch (e) {
      if (!(e instanceof UnserializableValueError)) throw e;
      this.emit({ type: "step-warning", step: p.step.id, message: `not cached: ${e.message}` });
    }
  }

  /** What a stage sees of the run while it computes `p` (started at `t0`). */
  #context(p: PlannedStep, t0: number): StageContext {
    const { id } = p.step;
    const { cache, preview } = this.options;
    return {
      stepId: id,
      signal: this.#internal.signal,
      seed: p.seed,
      progress: (progress) =>
        this.emit({
          type: "step-progress",
          step: id,
          progress,
          elapsed: (performance.now() - t0) / 1000,
        }),
      warn: (message) => this.emit({ type: "step-warning", step: id, message }),
      note: (message) => this.emit({ type: "step-note", step: id, message }),
      inputSteps: p.step.inputs,
      preview: preview && {
        every: preview.every,
        put: (image, iteration) => preview.onPreview(id, image, iteration),
      },
      paths: this.#paths,
      weightsDirs: this.#weightsDirs,
      engine: this.#getEngine,
      checkpoints: cache ? cache.checkpoints(p.key) : memoryCheckpoints(),
      fit: p.fit,
      stampOutput: (path, bytes) => this.#provenance.stamp(id, path, bytes),
    };
  }
}

/**
 * Phase 4, record: every step's outcome (`skipped` where never reached), the files written, and
 * the `run-finished` event; throws the first step failure, else a cancellation.
 */
function record(
  execution: Execution,
  outcomes: readonly PromiseSettledResult<void>[],
  seconds: number,
): RunResult {
  const { plan, summaries, values } = execution;
  const steps = plan.steps.map((p): StepSummary =>
    summaries.get(p.step.id) ??
      { step: p.step.id, stage: p.step.use, status: "skipped", seconds: 0 }
  );
  const outputs = [...values.values()].flatMap((v) => v.kind === "file" ? [v.path] : []);
  const failure = outcomes.map((o) => o.status === "rejected" ? o.reason : undefined)
    .find((r) => r instanceof StepFailedError) ??
    outcomes.find((o) => o.status === "rejected")?.reason;
  execution.emit({
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

/** `value` without its pixels (what provenance and the result need: kind, info, path, sizes). */
function withoutPixels(value: Value): Value {
  const empty = (image: RgbImage): RgbImage => ({
    width: image.width,
    height: image.height,
    data: new Float32Array(0),
  });
  if (value.kind === "image") return { ...value, image: empty(value.image) };
  if (value.kind === "file" && value.image) return { ...value, image: empty(value.image) };
  return value;
}
