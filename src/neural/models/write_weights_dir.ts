/**
 * Writes VGG weights as a model folder the loader reads: `model.json`, one manifest group per conv
 * (sharded), `README.md` and `SHA256SUMS`, assembled in a temporary folder beside the target and
 * renamed into place, so a reader never sees a half-written model.
 */
import { basename, dirname, join } from "node:path";
import { sha256Hex } from "../../util/hash.ts";
import { convLayers, type VggArch } from "./layers.ts";
import { formatSha256Sums } from "./sha256sums.ts";
import { encodeConvGroup, layersModelJson, type Shard } from "./tfjs_layers_model.ts";
import type { ConvWeights } from "./weights_types.ts";
import { WeightsError } from "./weights_error.ts";
import { pathExists } from "../../util/path_exists.ts";
import { messageOf } from "../../util/errors.ts";

/** Options for {@link writeWeightsDir}. */
export interface WriteWeightsDirOptions {
  /** Provenance line stored in `model.json` and `README.md`, e.g. the source file and its hash. */
  readonly generatedBy: string;
  /** Replace an existing folder (otherwise an existing folder is an error). */
  readonly force?: boolean;
  /** Largest shard in bytes (default 4 MiB, as tfjs-converter). */
  readonly shardBytes?: number;
}

/**
 * Writes `convs` (Gatys' names, a prefix of `arch` in forward order, real shapes) as the model
 * folder `modelDir`, e.g. `weights/vgg19`. Returns the names of the files written.
 */
export async function writeWeightsDir(
  modelDir: string,
  arch: VggArch,
  convs: ReadonlyMap<string, ConvWeights>,
  options: WriteWeightsDirOptions,
): Promise<string[]> {
  const layers = convLayers(arch).slice(0, convs.size);
  const names = [...convs.keys()];
  layers.forEach((layer, i) => {
    if (names[i] !== layer.name) {
      throw new WeightsError(
        `cannot write ${arch} weights: conv ${i + 1} is ${names[i]}, expected ${layer.name}`,
      );
    }
    const w = convs.get(layer.name)!;
    if (w.kernel.length !== 9 * layer.inChannels * layer.outChannels) {
      throw new WeightsError(`cannot write ${layer.name}: kernel has ${w.kernel.length} values`);
    }
    if (w.bias.length !== layer.outChannels) {
      throw new WeightsError(`cannot write ${layer.name}: bias has ${w.bias.length} values`);
    }
  });
  if (layers.length === 0) throw new WeightsError(`cannot write ${arch} weights: no convolutions`);
  if (!options.force && await pathExists(modelDir)) {
    throw new WeightsError(`${modelDir} already exists; pass --force to replace it`);
  }

  const groups = [];
  const files: Shard[] = [];
  for (const [i, layer] of layers.entries()) {
    const encoded = encodeConvGroup(i + 1, layer, convs.get(layer.name)!, options.shardBytes);
    groups.push(encoded.group);
    files.push(...encoded.shards);
  }
  const text = (s: string) => new TextEncoder().encode(s);
  files.unshift({
    path: "model.json",
    bytes: text(layersModelJson(arch, layers.length, groups, options.generatedBy)),
  });
  files.push({ path: "README.md", bytes: text(readme(arch, layers.map((l) => l.name), options)) });
  const sums = formatSha256Sums(files.map((f) => [f.path, sha256Hex(f.bytes)]));
  files.push({ path: "SHA256SUMS", bytes: text(sums) });

  const parent = dirname(modelDir);
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const staging = join(parent, `.${basename(modelDir)}.tmp-${tag}`);
  try {
    await Deno.mkdir(staging, { recursive: true });
    for (const f of files) await Deno.writeFile(join(staging, f.path), f.bytes);
    await swapInto(staging, modelDir, join(parent, `.${basename(modelDir)}.old-${tag}`));
  } catch (e) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw e instanceof WeightsError
      ? e
      : new WeightsError(`cannot write ${modelDir}: ${messageOf(e)}`, { cause: e });
  }
  return files.map((f) => f.path);
}

/** Renames `staging` to `target`, moving an existing `target` aside first and deleting it after. */
async function swapInto(staging: string, target: string, aside: string): Promise<void> {
  const replacing = await pathExists(target);
  if (replacing) await Deno.rename(target, aside);
  try {
    await Deno.rename(staging, target);
  } catch (e) {
    if (replacing) await Deno.rename(aside, target);
    throw e;
  }
  if (replacing) await Deno.remove(aside, { recursive: true });
}

function readme(arch: VggArch, convs: string[], options: WriteWeightsDirOptions): string {
  return `# ${arch.toUpperCase()} weights (${convs[0]} … ${convs.at(-1)})

Written by \`deno task weights\` (stylepipe) in the TensorFlow.js layers-model format.

- Source: ${options.generatedBy}
- \`model.json\`: \`modelTopology\` and \`weightsManifest\`, one group per convolution.
- Tensors: \`blockB_convC/kernel\` float32 \`[3, 3, in, out]\`, \`blockB_convC/bias\` float32
  \`[out]\`, little-endian.
- Convolutions present: ${convs.join(", ")}.
- Preprocessing expected (Keras "caffe"): pixels 0–255, RGB → BGR, minus [103.939, 116.779, 123.68].
- \`SHA256SUMS\` lists every file; stylepipe verifies it before use.
`;
}
