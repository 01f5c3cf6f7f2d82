/**
 * The VGG layer tables (Simonyan & Zisserman 2014) with the names Gatys et al. use:
 * conv1_1 … conv5_4, relu1_1 … relu5_4, pool1 … pool5. Keras names (block1_conv1 …) map onto them.
 */

/** Which architecture a weights folder holds. */
export type VggArch = "vgg19" | "vgg16";

/** One convolution of the network (3×3, stride 1, "same" padding, followed by ReLU). */
export interface ConvLayer {
  /** Gatys' name, e.g. `conv4_2`. */
  readonly name: string;
  /** Keras' name, e.g. `block4_conv2`. */
  readonly kerasName: string;
  /** Block number, 1-based; a pool follows the last conv of each block. */
  readonly block: number;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
}

const BLOCKS: Record<VggArch, number[]> = {
  vgg19: [2, 2, 4, 4, 4],
  vgg16: [2, 2, 3, 3, 3],
};
const WIDTHS = [64, 128, 256, 512, 512];

/** The convolutions of `arch`, in order. */
export function convLayers(arch: VggArch): ConvLayer[] {
  const out: ConvLayer[] = [];
  let inChannels = 3;
  BLOCKS[arch].forEach((count, b) => {
    for (let i = 1; i <= count; i++) {
      const block = b + 1;
      out.push({
        name: `conv${block}_${i}`,
        kerasName: `block${block}_conv${i}`,
        block,
        inChannels,
        outChannels: WIDTHS[b],
      });
      inChannels = WIDTHS[b];
    }
  });
  return out;
}

/** Every addressable layer name of `arch` in forward order: conv, relu, and pool after each block. */
export function layerNames(arch: VggArch): string[] {
  const names: string[] = [];
  const convs = convLayers(arch);
  convs.forEach((c, i) => {
    names.push(c.name, c.name.replace("conv", "relu"));
    const last = i === convs.length - 1 || convs[i + 1].block !== c.block;
    if (last) names.push(`pool${c.block}`);
  });
  return names;
}

/**
 * The convolution a layer name needs computed: `relu4_2` and `conv4_2` → `conv4_2`;
 * `pool3` → the last conv of block 3. Undefined for an unknown name.
 */
export function convFor(arch: VggArch, layer: string): ConvLayer | undefined {
  const convs = convLayers(arch);
  const m = /^(conv|relu)(\d)_(\d)$/.exec(layer);
  if (m) return convs.find((c) => c.name === `conv${m[2]}_${m[3]}`);
  const p = /^pool(\d)$/.exec(layer);
  if (p) return convs.filter((c) => c.block === Number(p[1])).at(-1);
  return undefined;
}
