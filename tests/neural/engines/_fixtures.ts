/**
 * Shared fixtures for the tfjs engine tests: seeded weights, images, specs whose targets come from
 * real activations, and direct host (float64) computations of the loss terms of objective/.
 */
import type { Activation, ObjectiveSpec } from "../../../src/neural/objective/spec.ts";
import {
  type Engine,
  evaluateAt,
  type HostEvaluation,
} from "../../../src/neural/engines/engine.ts";

export { evaluateAt, type HostEvaluation };
import type { Pooling } from "../../../src/neural/plan/network.ts";
import { syntheticVggWeights } from "../../../src/neural/models/synthetic.ts";
import type { VggWeights } from "../../../src/neural/models/weights_types.ts";
import { loadVggWeights } from "../../../src/neural/models/weights.ts";
import { Prng } from "../../../src/util/prng.ts";
import { featureMean } from "../../../src/neural/objective/mean_covariance.ts";
import { gramMatrix } from "../../../src/neural/objective/gram.ts";

/** Seeded VGG19 weights of the real shapes up to conv2_1 (enough for relu1_1, pool1, relu2_1). */
export const smallWeights: VggWeights = syntheticVggWeights("vgg19", 11, "conv2_1");

/** The real partial VGG19 (conv1_1…conv3_4) from $STYLEPIPE_WEIGHTS or ../shared/weights. */
export function realWeights(): Promise<VggWeights> {
  const env = Deno.env.get("STYLEPIPE_WEIGHTS");
  const shared = new URL("../../../../shared/weights", import.meta.url).pathname;
  return loadVggWeights(env ? [env, shared] : [shared], "vgg19");
}

/** A seeded HWC RGB image on the 0–255 scale. */
export function seededImage(seed: number, height: number, width: number): Float32Array {
  return new Prng(seed).fillUniform(new Float32Array(height * width * 3), 0, 255);
}

/** A seeded image near `base` (each value moved by up to ±amount, clamped to 0–255). */
export function perturbed(base: Float32Array, seed: number, amount: number): Float32Array {
  const prng = new Prng(seed);
  return base.map((v) => Math.min(255, Math.max(0, v + amount * (2 * prng.float() - 1))));
}

/** A mask over height × width: 1 on the left half, 0.25 on the right. */
export function halfMask(height: number, width: number): Float32Array {
  const mask = new Float32Array(height * width);
  for (let i = 0; i < mask.length; i++) mask[i] = (i % width) < width / 2 ? 1 : 0.25;
  return mask;
}

/** Normalized (optionally masked) Gram matrix of an activation, in float64 on the host. */
export function hostGram(a: Activation, mask?: Float32Array): Float64Array {
  const { height, width, channels: c, data } = a;
  const g = new Float64Array(c * c);
  for (let p = 0; p < height * width; p++) {
    const m = mask ? mask[p] : 1;
    for (let i = 0; i < c; i++) {
      const fi = data[p * c + i] * m;
      if (fi === 0) continue;
      for (let j = 0; j < c; j++) g[i * c + j] += fi * data[p * c + j] * m;
    }
  }
  return g.map((v) => v / (height * width * c));
}

/** mean((a − b)²) in float64. */
export function hostMeanSquaredDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/**
 * A spec whose targets are real activations of seeded images (content: relu2_1 of `content`;
 * style: relu1_1 masked and pool1 and relu2_1 of `style`), computed with `engine.extract`.
 */
export async function specFromImages(
  engine: Engine,
  weights: VggWeights,
  pooling: Pooling,
  height: number,
  width: number,
  content: Float32Array,
  style: Float32Array,
): Promise<ObjectiveSpec> {
  const c = await engine.extract(weights, pooling, { height, width, data: content }, ["relu2_1"]);
  const layers = ["relu1_1", "pool1", "relu2_1"];
  const s = await engine.extract(weights, pooling, { height, width, data: style }, layers);
  const mask = halfMask(height, width);
  const f32 = (a: Float64Array) => Float32Array.from(a);
  return {
    weights,
    pooling,
    height,
    width,
    content: [{ layer: "relu2_1", weight: 1, activations: c.get("relu2_1")!.data }],
    style: [
      { layer: "relu1_1", weight: 0.5, gram: f32(hostGram(s.get("relu1_1")!, mask)), mask },
      { layer: "pool1", weight: 1, gram: f32(hostGram(s.get("pool1")!)) },
      { layer: "relu2_1", weight: 2, gram: f32(hostGram(s.get("relu2_1")!)) },
    ],
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 1e-3,
  };
}

/** Relative difference |a − b| / max(|a|, |b|, tiny). */
export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
}

/** An evaluation with its gradient copied to the host. */
/** One evaluation of `spec` at x on `engine`: loss, terms and the gradient copied to the host. */
export async function evaluateOnHost<V>(
  engine: Engine<V>,
  spec: ObjectiveSpec,
  x: Float32Array,
): Promise<HostEvaluation> {
  const objective = await engine.objective(spec);
  try {
    return await evaluateAt(engine, objective, x);
  } finally {
    objective.dispose();
  }
}

/**
 * A style-only spec at `height` × `width`: mean-covariance targets of `style` on `layers` (layer
 * weights 1, 2, 3, …), style weight 1e3, no content or TV.
 */
export async function meanCovarianceSpec(
  engine: Engine,
  pooling: Pooling,
  height: number,
  width: number,
  style: Float32Array,
  layers: readonly string[],
): Promise<ObjectiveSpec> {
  const acts = await engine.extract(smallWeights, pooling, { height, width, data: style }, layers);
  return {
    weights: smallWeights,
    pooling,
    height,
    width,
    content: [],
    style: layers.map((layer, i) => {
      const a = acts.get(layer)!;
      return {
        layer,
        weight: i + 1,
        gram: gramMatrix(a),
        mean: featureMean(a),
        statistic: "mean-covariance" as const,
      };
    }),
    contentWeight: 0,
    styleWeight: 1e3,
    tvWeight: 0,
  };
}
