/**
 * Seeded synthetic VGG weights of the real shapes, for tests and benchmarks of layers the real
 * weights here lack (conv4_x, conv5_x). Not trained: activations are plausible in scale only.
 */
import { deriveSeed, Prng } from "../../util/prng.ts";
import { convFor, convLayers, type VggArch } from "./layers.ts";
import type { ConvWeights, VggWeights } from "./weights_types.ts";
import { WeightsError } from "./weights_error.ts";

/**
 * VGG weights for `arch` up to the conv that layer `upTo` needs (default: all): kernels He-normal,
 * N(0, 2 / (9·in)), biases uniform in [−0.05, 0.05). Each conv has its own seed derived from `seed`
 * and its name, so a conv's values do not depend on `upTo`. id: `synthetic:<arch>:<seed>:<last conv>`.
 */
export function syntheticVggWeights(arch: VggArch, seed: number, upTo?: string): VggWeights {
  const all = convLayers(arch);
  const last = upTo === undefined ? all.at(-1) : convFor(arch, upTo);
  if (!last) throw new WeightsError(`"${upTo}" is not a ${arch} layer`);
  const convs = new Map<string, ConvWeights>();
  for (const layer of all.slice(0, all.findIndex((c) => c.name === last.name) + 1)) {
    const prng = new Prng(deriveSeed(seed, `${arch}/${layer.name}`));
    const std = Math.sqrt(2 / (9 * layer.inChannels));
    const kernel = prng.fillNormal(
      new Float32Array(9 * layer.inChannels * layer.outChannels),
      0,
      std,
    );
    const bias = prng.fillUniform(new Float32Array(layer.outChannels), -0.05, 0.05);
    convs.set(layer.name, { kernel, bias });
  }
  return { arch, convs, id: `synthetic:${arch}:${seed}:${last.name}` };
}
