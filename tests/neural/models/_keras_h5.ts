/** Test fixtures: small Keras-style VGG `.h5` files written with h5wasm. */
import h5wasm from "h5wasm/node";
import { Prng } from "../../../src/util/prng.ts";
import { convLayers } from "../../../src/neural/models/layers.ts";
import type { ConvWeights } from "../../../src/neural/models/weights_types.ts";

/** Random conv1_1 and conv1_2 of the real shapes (seeded). */
export function smallVgg(seed: number): Map<string, ConvWeights> {
  const prng = new Prng(seed);
  return new Map(
    convLayers("vgg19").slice(0, 2).map((l) => [l.name, {
      kernel: prng.fillNormal(new Float32Array(9 * l.inChannels * l.outChannels), 0, 0.1),
      bias: prng.fillUniform(new Float32Array(l.outChannels), -1, 1),
    }]),
  );
}

/**
 * Writes `convs` as a Keras-style `.h5`: Keras 2 layout under `model_weights/`
 * (`block1_conv1/block1_conv1/kernel:0`) or Keras 1 layout at the root (`block1_conv1_W_1:0`).
 */
export async function writeKerasH5(
  path: string,
  convs: Map<string, ConvWeights>,
  layout: "keras2" | "keras1",
): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, "w");
  try {
    const root = layout === "keras2" ? file.create_group("model_weights") : file;
    for (const layer of convLayers("vgg19").filter((l) => convs.has(l.name))) {
      const w = convs.get(layer.name)!;
      const group = root.create_group(layer.kerasName);
      const kernelShape = [3, 3, layer.inChannels, layer.outChannels];
      if (layout === "keras2") {
        const inner = group.create_group(layer.kerasName);
        inner.create_dataset({ name: "kernel:0", data: w.kernel, shape: kernelShape, dtype: "<f" });
        inner.create_dataset({ name: "bias:0", data: w.bias, shape: [w.bias.length], dtype: "<f" });
      } else {
        const k = `${layer.kerasName}_W_1:0`, b = `${layer.kerasName}_b_1:0`;
        group.create_dataset({ name: k, data: w.kernel, shape: kernelShape, dtype: "<f" });
        group.create_dataset({ name: b, data: w.bias, shape: [w.bias.length], dtype: "<f" });
      }
    }
  } finally {
    file.close();
  }
}
