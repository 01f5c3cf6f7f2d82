/**
 * The tiled-evaluation benchmark (`deno task bench --tiled`): one loss-and-gradient evaluation of a
 * workload, whole or tiled (objective/tiled.ts), in this process: median time, the time of the
 * tiled first pass alone (the statistics forward: the "second forward pass"), peak resident memory.
 * Targets are computed tiled as well for a tiled case (tiledExtract), so nothing whole-image sized
 * is held by the engine. Run as a subprocess per case (entry below) so each peak RSS is its own.
 */
import type { Engine } from "../neural/engines/engine.ts";
import type { ObjectiveSpec } from "../neural/objective/spec.ts";
import { createEngine } from "../neural/engines/providers.ts";
import { syntheticVggWeights } from "../neural/models/synthetic.ts";
import { tiledExtract, tiledObjective } from "../neural/objective/tiled.ts";
import { tilesOf, type Tiling, tilingFor } from "../neural/objective/tiling.ts";
import { layersRead, lossPlan } from "../neural/objective/terms.ts";
import { gramMatrix } from "../neural/objective/gram.ts";
import { layerShape } from "../neural/plan/network.ts";
import { ownedAtLayer } from "../neural/objective/tiling.ts";
import { PeakRss } from "./measure.ts";
import { workloadImage } from "./workload.ts";
import { runJsonChild } from "./json_child.ts";

/** The layer sets measured: tubingen-starry-conv3's, and up to relu5_1. */
export const TILED_WORKLOADS = {
  conv3: { content: "relu3_2", style: ["relu1_1", "relu2_1", "relu3_1"], upTo: "conv3_2" },
  relu5_1: {
    content: "relu4_2",
    style: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
    upTo: "conv5_1",
  },
} as const;

/** A workload's name. */
export type TiledWorkload = keyof typeof TILED_WORKLOADS;

/** One case: a workload at height × width, whole (`tile` null) or tiled with that tile side. */
export interface TiledCase {
  readonly engine: string;
  readonly workload: TiledWorkload;
  readonly height: number;
  readonly width: number;
  readonly tile: number | null;
  /** Timed evaluations (median reported). */
  readonly steps: number;
  /** Untimed evaluations first. */
  readonly warmup: number;
  /** Whether to time the first pass alone as well (after each timed evaluation). */
  readonly parts: boolean;
  /**
   * Targets of the right sizes without extracting them (zeros; identity Grams): an evaluation
   * costs the same whatever their values, and a 50 MP case then skips two forward passes.
   */
  readonly placeholderTargets?: boolean;
}

/** The measurement of one case (the JSON line the subprocess prints). */
export interface TiledResult extends TiledCase {
  /** The tiling used (null when whole). */
  readonly tiling: Tiling | null;
  /** Median ms per evaluation (loss + gradient). */
  readonly ms_per_eval: number;
  /** Median ms of the first pass alone (statistics of every crop); null when whole. */
  readonly ms_first_pass: number | null;
  /** Seconds to compute the targets (extract or tiledExtract). */
  readonly targets_s: number;
  /** Peak resident memory of the process, MB (10⁶ bytes). */
  readonly peak_rss_mb: number;
}

/** Measures one case in this process. */
export async function measureTiled(c: TiledCase): Promise<TiledResult> {
  const rss = new PeakRss();
  const engine = await createEngine(c.engine);
  try {
    const w = TILED_WORKLOADS[c.workload];
    const layers = [w.content, ...w.style];
    const tiling = c.tile === null ? null : tilingFor("vgg19", layers, c.height, c.width, c.tile);
    const t0 = performance.now();
    const spec = await workloadSpec(engine, c, tiling);
    const targets = (performance.now() - t0) / 1000;
    rss.sample();
    const objective = tiling
      ? await tiledObjective(engine, spec, tiling)
      : await engine.objective(spec);
    const x = engine.vec.fromArray(image(c, 1));
    const times: number[] = [];
    const firstPass: number[] = [];
    try {
      for (let i = 0; i < c.warmup + c.steps; i++) {
        const t = performance.now();
        const e = await objective.evaluate(x);
        await engine.vec.toArray(e.grad);
        engine.vec.dispose(e.grad);
        rss.sample();
        if (i < c.warmup) continue;
        times.push(performance.now() - t);
        if (tiling && c.parts) firstPass.push(await timeFirstPass(engine, spec, tiling, c));
      }
    } finally {
      objective.dispose();
      engine.vec.dispose(x);
    }
    return {
      ...c,
      tiling,
      ms_per_eval: Math.round(median(times)),
      ms_first_pass: firstPass.length > 0 ? Math.round(median(firstPass)) : null,
      targets_s: Math.round(targets * 10) / 10,
      peak_rss_mb: Math.round(rss.peakBytes() / 1e6),
    };
  } finally {
    await engine.dispose();
  }
}

/** The workload's objective: content and style targets of two seeded images, tiled when tiling. */
async function workloadSpec(
  engine: Engine,
  c: TiledCase,
  tiling: Tiling | null,
): Promise<ObjectiveSpec> {
  const w = TILED_WORKLOADS[c.workload];
  const weights = syntheticVggWeights("vgg19", 2015, w.upTo);
  const at = (label: number) => ({ height: c.height, width: c.width, data: image(c, label) });
  let content: Float32Array;
  let grams: Float32Array[];
  if (c.placeholderTargets) {
    const s = layerShape("vgg19", w.content, c.height, c.width);
    content = new Float32Array(s.height * s.width * s.channels);
    grams = w.style.map((layer) => {
      const n = layerShape("vgg19", layer, c.height, c.width).channels;
      const g = new Float32Array(n * n);
      for (let i = 0; i < n; i++) g[i * n + i] = 1;
      return g;
    });
  } else if (tiling) {
    const request = { activations: [w.content], statistics: [] };
    content = (await tiledExtract(engine, weights, "max", at(1), request, tiling)).activations
      .get(w.content)!.data;
    const styleRequest = { activations: [], statistics: w.style.map((layer) => ({ layer })) };
    const style = await tiledExtract(engine, weights, "max", at(2), styleRequest, tiling);
    grams = style.statistics.map((s) => s.gram);
  } else {
    content = (await engine.extract(weights, "max", at(1), [w.content])).get(w.content)!.data;
    const style = await engine.extract(weights, "max", at(2), w.style);
    grams = w.style.map((layer) => gramMatrix(style.get(layer)!));
  }
  return {
    weights,
    pooling: "max",
    height: c.height,
    width: c.width,
    content: [{ layer: w.content, weight: 1, activations: content }],
    style: w.style.map((layer, i) => ({ layer, weight: 1 / w.style.length, gram: grams[i] })),
    contentWeight: 5,
    styleWeight: 1e4,
    tvWeight: 1e-3,
  };
}

/** The first pass alone: the statistics of every crop, as tiledObjective runs it. */
async function timeFirstPass(
  engine: Engine,
  spec: ObjectiveSpec,
  tiling: Tiling,
  c: TiledCase,
): Promise<number> {
  const layers = layersRead(lossPlan(spec).terms).filter((l) =>
    spec.style.some((s) => s.layer === l)
  );
  const x = image(c, 1);
  const t0 = performance.now();
  for (const tile of tilesOf(tiling, c.height, c.width)) {
    const h = tile.crop.y.end - tile.crop.y.start, w = tile.crop.x.end - tile.crop.x.start;
    const data = new Float32Array(h * w * 3);
    for (let r = 0; r < h; r++) {
      const from = ((tile.crop.y.start + r) * c.width + tile.crop.x.start) * 3;
      data.set(x.subarray(from, from + w * 3), r * w * 3);
    }
    const requests = layers.map((layer) => {
      const { crop } = ownedAtLayer("vgg19", layer, tile, c.height, c.width);
      return { layer, mask: new Float32Array(crop[0] * crop[1]).fill(1) };
    });
    await engine.statistics(spec.weights, "max", { height: h, width: w, data }, requests);
  }
  return performance.now() - t0;
}

function image(c: TiledCase, label: number): Float32Array {
  if (c.height === c.width) return workloadImage(c.height, label);
  const square = workloadImage(Math.max(c.height, c.width), label);
  const out = new Float32Array(c.height * c.width * 3);
  for (let r = 0; r < c.height; r++) {
    const from = r * Math.max(c.height, c.width) * 3;
    out.set(square.subarray(from, from + c.width * 3), r * c.width * 3);
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Measures `c` in a new process (its own peak RSS) and returns its result. */
export async function measureTiledInSubprocess(c: TiledCase): Promise<TiledResult> {
  const outcome = await runJsonChild(import.meta.url, [JSON.stringify(c)]);
  if (!outcome.ok) {
    throw new Error(`bench --tiled ${c.workload} ${c.height}×${c.width}: ${outcome.detail}`);
  }
  return JSON.parse(outcome.line) as TiledResult;
}

if (import.meta.main) {
  console.log(JSON.stringify(await measureTiled(JSON.parse(Deno.args[0]) as TiledCase)));
}
