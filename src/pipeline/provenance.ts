/**
 * Provenance: how an output file was made, precisely enough to make it again.
 *
 * Two parts:
 * - the {@link ProvenanceRecord} — the resolved recipe (only the steps the output depends on, with
 *   their parsed parameters) and its hash, stylepipe / Deno / library versions, the engine and its
 *   backend, weights identities, input file hashes, the seed and each step's final figures (losses).
 *   Everything in it is reproducible and portable (no absolute paths: inputs are named as the
 *   recipe wrote them, with where they were found and their SHA-256), so it is embedded in the PNG
 *   (an `iTXt` chunk, keyword `stylepipe`) without making two renders of the same recipe, in any
 *   two folders, differ by a single byte.
 * - the sidecar `NAME.png.json` — the record plus a `run` section with what is *not* reproducible:
 *   wall-clock time, per-step timings, which steps came from the cache or resumed from a checkpoint,
 *   and the local paths (recipe file, inputs) that `verify` tries first.
 */
import { messageOf, StylepipeError } from "../util/errors.ts";
import denoConfig from "../../deno.json" with { type: "json" };
import { isPng, readPngText, writePngText } from "../image/png_text.ts";
import { basename, isAbsolute, resolve } from "node:path";
import { codecVersions } from "../image/codecs.ts";
import type { Engine } from "../neural/engines/engine.ts";
import type { Value } from "../stages/stage.ts";
import { atomicWrite } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/hash.ts";
import { canonicalJson } from "./canonical_json.ts";
import { sidecarPath } from "./paths.ts";
import type { StepSummary } from "./events.ts";
import type { Plan } from "./plan.ts";
import type { StepStore } from "./store.ts";

/** The PNG text keyword holding the record. */
export const PROVENANCE_KEYWORD = "stylepipe";
/** Format tag written in every record. */
export const PROVENANCE_FORMAT = "stylepipe-provenance/1";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One step of the resolved recipe, as recorded (a valid recipe step: `id`, `use`, `from`, `with`). */
export interface RecordedStep {
  readonly id: string;
  readonly use: string;
  /** Stage version (part of the cache key; a different version may render differently). */
  readonly version: number;
  /** Input name → step ids. */
  readonly from: Readonly<Record<string, readonly string[]>>;
  /** Parsed parameters (defaults applied, variables resolved). */
  readonly with: Json;
}

/** The reproducible description of one output. */
export interface ProvenanceRecord {
  readonly format: typeof PROVENANCE_FORMAT;
  /** The step that wrote the file (its path is in the step's parameters). */
  readonly output: { readonly step: string };
  /** The resolved recipe, reduced to the steps the output depends on. */
  readonly recipe: {
    /** Recipe file name (no folder: the sidecar's `run.recipe` has the local path). */
    readonly file: string;
    readonly name: string;
    readonly seed: number;
    readonly steps: readonly RecordedStep[];
    /** SHA-256 of the canonical JSON of name, seed, engine and steps. */
    readonly hash: string;
  };
  /** stylepipe, Deno and npm library versions. */
  readonly versions: {
    readonly stylepipe: string;
    readonly deno: string;
    readonly v8: string;
    readonly typescript: string;
    readonly libraries: Readonly<Record<string, string>>;
    /** The image codecs: sharp and the libvips it bundles. */
    readonly codecs: { readonly sharp: string; readonly libvips: string };
  };
  /**
   * The engine used and its backend description; when no step used an engine, the recipe's engine
   * name and no backend. (Not the name asked for: `auto` may choose differently elsewhere.)
   */
  readonly engine: { readonly name: string; readonly backend?: string };
  /** Weights used, by model (id = SHA-256 of the weights, or `synthetic:…`). */
  readonly weights: readonly { readonly model: string; readonly id: string }[];
  /** Input files read, with their SHA-256. */
  readonly inputs: readonly RecordedInput[];
  /** Reproducible figures each step reported (final losses, iterations…), by step id. */
  readonly results: Readonly<Record<string, Json>>;
}

/**
 * An input file as recorded: the path as the recipe wrote it, the folder kind it was found in
 * (`recipe`: relative to the recipe's folder; `images`: a lookup folder such as
 * `$STYLEPIPE_IMAGES`; `absolute`: written as an absolute path), and its SHA-256.
 */
export interface RecordedInput {
  readonly path: string;
  readonly found: "recipe" | "images" | "absolute";
  readonly sha256: string;
}

/** What a run adds in the sidecar (not reproducible, so not in the PNG). */
export interface RunFacts {
  /** The file written (absolute). */
  readonly output: string;
  /** The recipe file and the input files as found on this machine (absolute), for `verify`. */
  readonly recipe?: string;
  readonly inputs?: Readonly<Record<string, string>>;
  /** ISO times of the run. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Per step the output depends on: compute seconds and whether it ran or came from the cache. */
  readonly steps: Readonly<Record<string, { readonly seconds: number; readonly status: string }>>;
}

/** The sidecar file's content. */
export interface ProvenanceSidecar extends ProvenanceRecord {
  readonly run: RunFacts;
}

/** A file that has no (readable) provenance record. */
export class ProvenanceError extends StylepipeError {}

/**
 * The JSON-safe part of a value: plain data kept, typed arrays and other large binary data
 * dropped (they are results, not descriptions), non-finite numbers turned into strings.
 */
export function jsonSafe(value: unknown): Json | undefined {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) {
    return value.map((v) => jsonSafe(v)).filter((v) => v !== undefined) as Json[];
  }
  if (typeof value === "object" && !ArrayBuffer.isView(value) && isPlain(value)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const j = jsonSafe(v);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  return undefined;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Versions of stylepipe (deno.json), Deno, V8, TypeScript and every npm import in deno.json. */
export function runtimeVersions(): ProvenanceRecord["versions"] {
  const libraries: Record<string, string> = {};
  for (const [name, spec] of Object.entries(denoConfig.imports as Record<string, string>)) {
    const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (m) libraries[name] = m[2];
  }
  return {
    stylepipe: denoConfig.version,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    libraries,
    codecs: codecVersions(),
  };
}

/** The minimal view of a validated recipe step the record needs. */
export interface StepDescription {
  readonly id: string;
  readonly use: string;
  readonly params: unknown;
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  readonly stage: { readonly version: number };
}

/** The ids of `target` and every step it depends on, in `steps` order. */
export function ancestors(steps: readonly StepDescription[], target: string): string[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const keep = new Set<string>();
  const visit = (id: string) => {
    if (keep.has(id)) return;
    const step = byId.get(id);
    if (!step) return;
    keep.add(id);
    for (const ids of Object.values(step.inputs)) ids.forEach(visit);
  };
  visit(target);
  return steps.filter((s) => keep.has(s.id)).map((s) => s.id);
}

/** Facts about a run from which records are built. */
export interface RecordFacts {
  readonly recipe: {
    readonly file: string;

    readonly name: string;
    readonly seed: number;
    readonly engine: string;
    readonly steps: readonly StepDescription[];
  };
  /** The engine used, if one was created. */
  readonly engine?: { readonly name: string; describe(): string };
  /** Input files read, for the steps that read them (by step id). */
  readonly inputFiles: ReadonlyMap<string, readonly RecordedInput[]>;
  /** Weights used, by step id. */
  readonly weights: ReadonlyMap<string, { model: string; id: string }>;
  /** Reproducible results (`Value.info`), by step id. */
  readonly results: ReadonlyMap<string, unknown>;
}

/** Builds the record of the file written by step `outputStep`. */
export function buildProvenanceRecord(facts: RecordFacts, outputStep: string): ProvenanceRecord {
  const ids = ancestors(facts.recipe.steps, outputStep);
  const idSet = new Set(ids);
  const steps: RecordedStep[] = facts.recipe.steps.filter((s) => idSet.has(s.id)).map((s) => ({
    id: s.id,
    use: s.use,
    version: s.stage.version,
    from: s.inputs,
    with: jsonSafe(s.params) ?? null,
  }));
  const hash = sha256Hex(canonicalJson({
    name: facts.recipe.name,
    seed: facts.recipe.seed,
    engine: facts.engine?.name ?? facts.recipe.engine,
    steps,
  }));
  const weights = new Map<string, { model: string; id: string }>();
  const inputs = new Map<string, RecordedInput>();
  const results: Record<string, Json> = {};
  for (const id of ids) {
    const w = facts.weights.get(id);
    if (w) weights.set(`${w.model}\0${w.id}`, w);
    for (const f of facts.inputFiles.get(id) ?? []) inputs.set(`${f.path}\0${f.sha256}`, f);
    const r = jsonSafe(facts.results.get(id));
    if (r !== undefined && !(typeof r === "object" && r && Object.keys(r).length === 0)) {
      results[id] = r;
    }
  }
  return {
    format: PROVENANCE_FORMAT,
    output: { step: outputStep },
    recipe: {
      file: basename(facts.recipe.file),
      name: facts.recipe.name,
      seed: facts.recipe.seed,
      steps,
      hash,
    },
    versions: runtimeVersions(),
    engine: facts.engine
      ? { name: facts.engine.name, backend: facts.engine.describe() }
      : { name: facts.recipe.engine },
    weights: [...weights.values()],
    inputs: [...inputs].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, f]) => f),
    results,
  };
}

/**
 * Result keys kept in the sidecar only: bulky (a 500-iteration loss trace with its terms is about
 * 40 KB) and not needed to reproduce the output.
 */
export const SIDECAR_ONLY = ["loss_trace"] as const;

/** The record as embedded in the output: results without {@link SIDECAR_ONLY} keys. */
export function embeddedRecord(record: ProvenanceRecord): ProvenanceRecord {
  const results = Object.fromEntries(
    Object.entries(record.results).map(([step, r]) => {
      if (r === null || typeof r !== "object" || Array.isArray(r)) return [step, r];
      const kept = { ...r };
      for (const key of SIDECAR_ONLY) delete kept[key];
      return [step, kept];
    }),
  );
  return { ...record, results };
}

/** Embeds the record in encoded PNG bytes (replacing an earlier record). */
export function embedProvenance(png: Uint8Array, record: ProvenanceRecord): Uint8Array {
  return writePngText(png, PROVENANCE_KEYWORD, canonicalJson(record));
}

/** Reads the record embedded in PNG bytes; throws {@link ProvenanceError} when there is none. */
export function extractProvenance(png: Uint8Array, file = "the file"): ProvenanceRecord {
  const text = readPngText(png).get(PROVENANCE_KEYWORD);
  if (text === undefined) {
    throw new ProvenanceError(`${file} has no stylepipe provenance record (no "stylepipe" chunk)`);
  }
  const record = JSON.parse(text);
  if (record?.format !== PROVENANCE_FORMAT) {
    throw new ProvenanceError(
      `${file}: unknown provenance format ${JSON.stringify(record?.format)}`,
    );
  }
  return record as ProvenanceRecord;
}

/** Writes the sidecar of `output` atomically. */
export async function writeSidecar(output: string, sidecar: ProvenanceSidecar): Promise<void> {
  await atomicWrite(sidecarPath(output), JSON.stringify(sidecar, null, 2) + "\n");
}

/**
 * The record of an output file: from the PNG chunk when present, else from the sidecar (JPEG
 * outputs carry only the sidecar). Throws {@link ProvenanceError} when the file cannot be read or
 * has neither.
 */
export async function readProvenance(output: string): Promise<ProvenanceRecord> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(output);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : messageOf(e);
    throw new ProvenanceError(`cannot read ${output}: ${why}`, { cause: e });
  }
  if (readPngTextSafe(bytes)?.has(PROVENANCE_KEYWORD)) return extractProvenance(bytes, output);
  try {
    const sidecar = JSON.parse(await Deno.readTextFile(sidecarPath(output)));
    if (sidecar?.format === PROVENANCE_FORMAT) return sidecar as ProvenanceRecord;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
  }
  throw new ProvenanceError(
    `${output} has no provenance: no "stylepipe" PNG chunk and no readable ${sidecarPath(output)}`,
  );
}

function readPngTextSafe(bytes: Uint8Array): Map<string, string> | undefined {
  try {
    return readPngText(bytes);
  } catch {
    return undefined;
  }
}

/** What the collector reads from a run in progress. */
export interface RunView {
  /** Cache (to read results of ancestors that were cached and not loaded), or null. */
  readonly cache: StepStore | null;
  /** Values computed or loaded so far, by step id. */
  readonly values: ReadonlyMap<string, Value>;
  /** The run's engine (created on first call, as when a stage asks for it). */
  engine(): Promise<Engine>;
}

/**
 * Gathers provenance during a run: {@link stamp} builds the record of an output as `save` is about
 * to write it (embedding it in PNG bytes), {@link writeSidecar} writes its `NAME.json` once the
 * output is saved.
 */
export class ProvenanceCollector {
  readonly #plan: Plan;
  readonly #run: RunView;
  readonly #started = new Date();
  readonly #stamped = new Map<string, ProvenanceRecord>();

  /** @param plan the plan being run @param run live view of the run */
  constructor(plan: Plan, run: RunView) {
    this.#plan = plan;
    this.#run = run;
  }

  /**
   * Builds the record for `step`'s output at `path`; returns the bytes to write (PNG: the record
   * embedded, without the results' {@link SIDECAR_ONLY} keys, which the sidecar keeps).
   */
  async stamp(step: string, path: string, bytes: Uint8Array): Promise<Uint8Array> {
    const record = buildProvenanceRecord(await this.#facts(step), step);
    this.#stamped.set(path, record);
    return isPng(bytes) ? embedProvenance(bytes, embeddedRecord(record)) : bytes;
  }

  /** Whether a record was built for `output` in this run. */
  stamped(output: string): boolean {
    return this.#stamped.has(output);
  }

  /** Writes the sidecar of `output` (stamped in this run), with timings from `steps`. */
  async writeSidecar(output: string, steps: readonly StepSummary[]): Promise<void> {
    const record = this.#stamped.get(output);
    if (!record) return;
    const summary = new Map(steps.map((s) => [s.step, s]));
    const timings: Record<string, { seconds: number; status: string }> = {};
    for (const s of record.recipe.steps) {
      const t = summary.get(s.id);
      if (t) timings[s.id] = { seconds: t.seconds, status: t.status };
    }
    await writeSidecar(output, {
      ...record,
      run: {
        output,
        recipe: resolve(this.#plan.recipe.file),
        inputs: this.#localInputs(),
        startedAt: this.#started.toISOString(),
        finishedAt: new Date().toISOString(),
        steps: timings,
      },
    });
  }

  async #facts(step: string): Promise<RecordFacts> {
    const { recipe } = this.#plan;
    const byId = new Map(this.#plan.steps.map((p) => [p.step.id, p]));
    const inputFiles = new Map<string, RecordedInput[]>();
    const weights = new Map<string, { model: string; id: string }>();
    const results = new Map<string, unknown>();
    for (const id of ancestors(recipe.steps, step)) {
      const planned = byId.get(id);
      if (!planned) continue;
      inputFiles.set(
        id,
        planned.inputFiles.map((f) => recordedInput(f, this.#plan.paths.recipeDir)),
      );
      if (id === step) continue;
      const value = this.#run.values.get(id) ?? await this.#cached(planned.key);
      if (value?.kind === "features") {
        weights.set(id, { model: value.features.model, id: value.features.weightsId });
      }
      if (value?.info) results.set(id, value.info);
    }
    // The engine is described when the output depends on a step that used one (extract-features'
    // targets, or an `engine` in a step's info), whether that step ran now or came from the cache.
    const usedEngine = weights.size > 0 ||
      [...results.values()].some((info) =>
        typeof (info as { engine?: unknown }).engine === "string"
      );
    const engine = usedEngine ? await this.#run.engine().catch(() => undefined) : undefined;
    return {
      recipe: {
        file: resolve(recipe.file),
        name: recipe.name,
        seed: recipe.seed,
        engine: recipe.engine,
        steps: recipe.steps,
      },
      engine,
      inputFiles,
      weights,
      results,
    };
  }

  /** Recorded path → where it was found here, for every input of the plan. */
  #localInputs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of this.#plan.steps) for (const f of s.inputFiles) out[f.written] = f.path;
    return out;
  }

  async #cached(key: string): Promise<Value | undefined> {
    const read = await this.#run.cache?.get(key);
    return read?.status === "hit" ? read.value : undefined;
  }
}

/** An input as recorded: as written in the recipe, whether it was beside the recipe, and its hash. */
export function recordedInput(
  file: { readonly written: string; readonly path: string; readonly sha256: string },
  recipeDir: string,
): RecordedInput {
  const found = isAbsolute(file.written)
    ? "absolute"
    : resolve(recipeDir, file.written) === file.path
    ? "recipe"
    : "images";
  return { path: file.written, found, sha256: file.sha256 };
}
