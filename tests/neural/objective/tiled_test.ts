/**
 * Exact tiled evaluation (objective/tiled.ts): the tiled loss, its groups and its gradient equal the
 * whole-image evaluation's (relative error ≤ 1e-5) for every term kind, both poolings and the three
 * paddings, with masks and on a canvas whose size is no multiple of the stride; and the same tiling
 * with no halo does not (so the comparison can fail).
 */
import assert from "node:assert/strict";
import type { Engine } from "../../../src/neural/engines/engine.ts";
import type { ObjectiveSpec } from "../../../src/neural/objective/spec.ts";
import { onnxProvider } from "../../../src/neural/engines/onnx/engine.ts";
import { CudaEngine } from "../../../src/neural/engines/cuda/engine.ts";
import { CudaDevice } from "../../../src/neural/engines/cuda/device.ts";
import { emulatedCuda } from "../../../src/neural/engines/cuda/emulated.ts";
import { tfjsCpuProvider } from "../../../src/neural/engines/tfjs/cpu.ts";
import { layersRead, lossPlan } from "../../../src/neural/objective/terms.ts";
import { tiledExtract, tiledObjective } from "../../../src/neural/objective/tiled.ts";
import {
  checkTiling,
  tileHalo,
  tilesOf,
  type Tiling,
  tilingFor,
} from "../../../src/neural/objective/tiling.ts";
import { layerBlock, PADDINGS, type Pooling } from "../../../src/neural/plan/network.ts";
import { syntheticVggWeights } from "../../../src/neural/models/synthetic.ts";
import { maskAtLayer } from "../../../src/neural/objective/layer_mask.ts";
import { gramMatrix } from "../../../src/neural/objective/gram.ts";
import { featureMean } from "../../../src/neural/objective/mean_covariance.ts";
import {
  evaluateAt,
  evaluateOnHost,
  halfMask,
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
  try {
    return await evaluateAt(engine, objective, x);
  } finally {
    objective.dispose();
  }
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

/** The cuda engine on the emulated device (tests/neural/engines/cuda: the same code as on a GPU). */
const emulatedCudaProvider = {
  name: "cuda (emulated)",
  create: () => Promise.resolve(new CudaEngine(new CudaDevice(emulatedCuda().api), "fp32")),
};

const ENGINES = [tfjsCpuProvider, onnxProvider, emulatedCudaProvider];

for (const provider of ENGINES) {
  for (const pooling of ["avg", "max"] as Pooling[]) {
    for (const padding of PADDINGS) {
      // The emulated device is slow: each pooling and each padding once there.
      const emulated = provider === emulatedCudaProvider;
      const combo = `${pooling} ${padding}`;
      if (emulated && !["avg zero", "max reflect", "avg replicate"].includes(combo)) continue;
      Deno.test(`${provider.name} ${combo}: every term kind tiled = whole`, async () => {
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
          if (pooling !== "avg" || padding !== "zero") return;
          // Without its halo a tile's border features are wrong: the comparison can fail.
          const blind = await compare(engine, spec, 12, x, 0);
          assert.ok(blind.error > 1e-3, `relative error without halo ${blind.error}`);
        } finally {
          await engine.dispose();
        }
      });
    }
  }

  // tfjs cpu's JS convolutions take minutes at conv4's widths; onnx checks the deep layers.
  if (provider === onnxProvider) {
    Deno.test(`${provider.name}: relu4_1 (synthetic weights, halo 32) tiled 3×4 = whole`, async () => {
      const engine = await provider.create();
      try {
        // Larger than a crop (40 + 2·32 px) both ways, so the crops cut the image.
        const [h, w] = [120, 136];
        const weights = syntheticVggWeights("vgg19", 7, "conv4_1");
        const style = await engine.extract(weights, "max", {
          height: h,
          width: w,
          data: seededImage(5, h, w),
        }, ["relu3_1", "relu4_1"]);
        const content = seededImage(4, h, w);
        const c = await engine.extract(weights, "max", { height: h, width: w, data: content }, [
          "relu3_2",
        ]);
        const mask = halfMask(h, w);
        const spec: ObjectiveSpec = {
          weights,
          pooling: "max",
          height: h,
          width: w,
          content: [{ layer: "relu3_2", weight: 1, activations: c.get("relu3_2")!.data }],
          style: [
            { layer: "relu3_1", weight: 1, gram: gramMatrix(style.get("relu3_1")!) },
            { layer: "relu4_1", weight: 1, gram: gramMatrix(style.get("relu4_1")!), mask },
          ],
          contentWeight: 1,
          styleWeight: 1e3,
          tvWeight: 1e-3,
          padding: "reflect",
        };
        const x = perturbed(content, 6, 60);
        const { tiling, error } = await compare(engine, spec, 40, x);
        assert.deepEqual([tiling.rows, tiling.cols, tiling.tile, tiling.halo], [3, 4, 40, 32]);
        assert.ok(error <= 1e-5, `relative error ${error}`);
        const short = await compare(engine, spec, 40, x, 24);
        assert.ok(short.error > 1e-3, `relative error with a 24 px halo ${short.error}`);
      } finally {
        await engine.dispose();
      }
    });
  }

  Deno.test(`${provider.name}: tiledExtract = extract (activations, masked Gram, mean)`, async () => {
    const engine = await provider.create();
    try {
      const image = { height: H, width: W, data: seededImage(8, H, W) };
      const layers = ["relu1_1", "pool1", "relu2_1"];
      const mask = halfMask(H, W);
      const request = {
        activations: ["relu1_1", "relu2_1"],
        statistics: [{ layer: "relu1_1", mask }, { layer: "pool1" }, { layer: "relu2_1" }],
      };
      const tiling = tilingFor("vgg19", layers, H, W, 8);
      // The paddings on onnx; tfjs cpu and the emulated device are slower, zero there.
      for (const padding of provider === onnxProvider ? PADDINGS : ["zero" as const]) {
        const whole = await engine.extract(smallWeights, "avg", image, layers, padding);
        const tiled = await tiledExtract(
          engine,
          smallWeights,
          "avg",
          image,
          request,
          tiling,
          padding,
        );
        for (const layer of request.activations) {
          const err = maxRelDiff(tiled.activations.get(layer)!.data, whole.get(layer)!.data);
          assert.ok(err <= 1e-5, `${padding} ${layer}: activations differ by ${err}`);
        }
        request.statistics.forEach((s, i) => {
          const a = whole.get(s.layer)!;
          const m = s.mask && maskAtLayer(s.mask, H, W, layerBlock("vgg19", s.layer));
          const gram = gramMatrix(a, m);
          assert.ok(
            maxRelDiff(tiled.statistics[i].gram, gram) <= 1e-5,
            `${padding} ${s.layer} Gram`,
          );
          if (!s.mask) {
            const mean = featureMean(a);
            assert.ok(
              maxRelDiff(tiled.statistics[i].mean, mean) <= 1e-5,
              `${padding} ${s.layer} mean`,
            );
          }
        });
      }
    } finally {
      await engine.dispose();
    }
  });
}

Deno.test("tileHalo: the crop border's spread to the deepest layer, rounded to its stride", () => {
  assert.equal(tileHalo("vgg19", ["relu1_1"]), 1);
  assert.equal(tileHalo("vgg19", ["relu1_1", "relu2_1"]), 4);
  assert.equal(tileHalo("vgg19", ["relu3_2", "relu1_1"]), 16);
  assert.equal(tileHalo("vgg19", ["relu5_1"]), 80);
  assert.equal(tileHalo("vgg16", ["relu5_1"]), 64);
});

Deno.test("tilingFor/tilesOf: stride-aligned tiles that own every pixel once", () => {
  const tiling = tilingFor("vgg19", ["relu3_1"], 101, 70, 30);
  assert.deepEqual(tiling, { tile: 28, halo: 12, rows: 4, cols: 3 });
  const owned = new Uint8Array(101 * 70);
  for (const t of tilesOf(tiling, 101, 70)) {
    assert.equal(t.crop.y.start % 4, 0);
    assert.equal(t.crop.x.start % 4, 0);
    for (let y = t.owned.y.start; y < t.owned.y.end; y++) {
      for (let x = t.owned.x.start; x < t.owned.x.end; x++) owned[y * 70 + x]++;
    }
  }
  assert.ok(owned.every((n) => n === 1));
  assert.throws(() => tilesOf({ ...tiling, rows: 3 }, 101, 70), RangeError);
  assert.throws(() => checkTiling("vgg19", ["relu3_1"], { ...tiling, tile: 30 }), /not aligned/);
});
