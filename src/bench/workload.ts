/**
 * Workload W of the benchmark: VGG19 conv1_1…relu5_1 with seeded synthetic weights of the real
 * shapes, Gram style loss on relu1_1…relu5_1, content loss on relu4_2; one step = one loss and
 * gradient evaluation (forward + backward).
 */
import type { Engine } from "../neural/engines/engine.ts";
import type { ObjectiveSpec } from "../neural/objective/spec.ts";
import { gramMatrix } from "../neural/objective/gram.ts";
import { convFlops, vggPlan } from "../neural/plan/network.ts";
import { syntheticVggWeights } from "../neural/models/synthetic.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { Prng } from "../util/prng.ts";

/** Style layers of W. */
export const STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"] as const;
/** Content layer of W. */
export const CONTENT_LAYER = "relu4_2";
/** Seed of W's synthetic weights and images. */
const SEED = 2015;

/** W's weights: synthetic VGG19 up to conv5_1. */
export function workloadWeights(): VggWeights {
  return syntheticVggWeights("vgg19", SEED, "relu5_1");
}

/** A seeded size × size RGB image (0–255, HWC). */
export function workloadImage(size: number, label: number): Float32Array {
  return new Prng(SEED + label).fillUniform(new Float32Array(size * size * 3), 0, 255);
}

/** W's objective at size × size: targets from two seeded images, extracted with `engine`. */
export async function workloadSpec(
  engine: Engine,
  weights: VggWeights,
  size: number,
): Promise<ObjectiveSpec> {
  const image = (label: number) => ({
    height: size,
    width: size,
    data: workloadImage(size, label),
  });
  const content = await engine.extract(weights, "max", image(1), [CONTENT_LAYER]);
  const style = await engine.extract(weights, "max", image(2), STYLE_LAYERS);
  return {
    weights,
    pooling: "max",
    height: size,
    width: size,
    content: [{ layer: CONTENT_LAYER, weight: 1, activations: content.get(CONTENT_LAYER)!.data }],
    style: STYLE_LAYERS.map((layer) => ({
      layer,
      weight: 1 / STYLE_LAYERS.length,
      gram: gramMatrix(style.get(layer)!),
    })),
    contentWeight: 5,
    styleWeight: 1e4,
    tvWeight: 1e-3,
  };
}

/**
 * Floating-point operations of one W step at height × width, counted analytically over the
 * convolutions (the rest is < 2 %): each 3×3 conv costs 2·9·H·W·C_in·C_out forward and the same
 * again for its input gradient (no weight gradients are needed).
 */
export function stepFlops(height: number, width: number): number {
  return 2 * convFlops(vggPlan("vgg19", "avg", height, width, ["relu5_1"]));
}
