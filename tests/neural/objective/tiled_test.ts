/**
 * Exact tiled evaluation (objective/tiled.ts): the tiled loss, its groups and its gradient equal the
 * whole-image evaluation's (relative error ≤ 1e-5) for every term kind, both poolings and the three
 * paddings, with masks and on a canvas whose size is no multiple of the stride; and the same tiling
 * with no halo does not (so the comparison can fail).
 */
import assert from "node:assert/strict";
import type {
  Engine,
  ObjectiveSpec,
  Padding,
  Pooling,
} from "../../../src/neural/engines/engine.ts";
import { onnxProvider } from "../../../src/neural/engines/onnx/engine.ts";
import { tfjsCpuProvider } from "../../../src/neural/engines/tfjs_cpu.ts";
import { layersRead, lossPlan } from "../../../src/neural/plan/loss.ts";
import { tiledObjective } from "../../../src/neural/objective/tiled.ts";
import { type Tiling, tilingFor } from "../../../src/neural/objective/tiling.ts";
import {
  evaluateOnHost,
  meanCovarianceSpec,
  perturbed,
  relDiff,
  seededImage,
  smallWeights,
  specFromImages,
} from "../engines/_fixtures.ts";

const H = 21, W = 26;

/** max |a − b| / max |b|. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

async function tiledOnHost<V>(
  engine: Engine<V>,
  spec: ObjectiveSpec,
  tiling: Tiling,
  x: Float32Array,
) {
  const objective = await tiledObjective(engine, spec, tiling);
  const xv = engine.vec.fromArray(x);
  const e = await objective.evaluate(xv);
  const grad = await engine.vec.toArray(e.grad);
  engine.vec.dispose(e.grad);
  engine.vec.dispose(xv);
  objective.dispose();
  return { loss: e.loss, terms: e.terms, grad };
}

/** Tiled against whole for `spec` at x; returns the worst relative error. */
async function compare<V>(
  engine: Engine<V>,
  spec: ObjectiveSpec,
  tile: number,
  x: Float32Array,
  halo?: number,
) {
  const layers = layersRead(lossPlan(spec).terms);
  const tiling = tilingFor(spec.weights.arch, layers, spec.height, spec.width, tile);
  const t = { ...tiling, ...(halo === undefined ? {} : { halo }) };
  const whole = await evaluateOnHost(engine, spec, x);
  const tiled = await tiledOnHost(engine, spec, t, x);
  const errors = [
    relDiff(tiled.loss, whole.loss),
    ...Object.keys(whole.terms).map((k) => Math.abs(tiled.terms[k] - whole.terms[k]) / whole.loss),
    maxRelDiff(tiled.grad, whole.grad),
  ];
  return { tiling: t, error: Math.max(...errors) };
}

for (const provider of [tfjsCpuProvider, onnxProvider]) {
  for (const pooling of ["avg", "max"] as Pooling[]) {
    for (const padding of ["zero", "reflect", "replicate"] as Padding[]) {
      Deno.test(`${provider.name} ${pooling} ${padding}: every term kind tiled = whole`, async () => {
        const engine = await provider.create();
        try {
          const content = seededImage(1, H, W), style = seededImage(2, H, W);
          const base = await specFromImages(engine, smallWeights, pooling, H, W, content, style);
          const mc = await meanCovarianceSpec(engine, pooling, H, W, style, ["relu1_1", "relu2_1"]);
          const spec = { ...base, style: [...base.style, ...mc.style], padding };
          const x = perturbed(content, 3, 40);
          const { tiling, error } = await compare(engine, spec, 12, x);
          assert.deepEqual([tiling.rows, tiling.cols, tiling.tile, tiling.halo], [2, 3, 12, 4]);
          assert.ok(error <= 1e-5, `relative error ${error}`);
          // Without its halo a tile's border features are wrong: the comparison can fail.
          const blind = await compare(engine, spec, 12, x, 0);
          assert.ok(blind.error > 1e-3, `relative error without halo ${blind.error}`);
        } finally {
          await engine.dispose();
        }
      });
    }
  }
}
