/**
 * Imports Keras VGG19/VGG16 weights from an HDF5 `.h5` file (e.g. Keras'
 * `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`) into a TensorFlow.js layers-model folder.
 * HDF5 is read with h5wasm (the HDF5 C library compiled to WebAssembly, node build: real paths).
 *
 * Layouts handled: one group per layer at the root or under `model_weights/`, holding the kernel
 * and bias directly (`/block1_conv1/block1_conv1_W_1:0`, Keras 1 names) or one level deeper
 * (`/block1_conv1/block1_conv1/kernel:0`, Keras 2). The kernel is the 4-D dataset, the bias the 1-D one.
 */
import h5wasm from "npm:h5wasm@0.10.3/node";
import { basename, resolve } from "node:path";
import { type ConvLayer, convLayers, type VggArch } from "./layers.ts";
import type { ConvWeights } from "./weights_types.ts";
import { WeightsError } from "./weights_error.ts";
import { writeWeightsDir } from "./write_weights_dir.ts";
import { messageOf } from "../../util/errors.ts";

/** VGG convolutions read from an `.h5` file. */
export interface KerasVggWeights {
  /** Architecture: from the layers present, or `expected` when a short prefix fits both. */
  readonly arch: VggArch;
  /** Convolutions present (Gatys' names), in forward order: a prefix of the architecture. */
  readonly convs: Map<string, ConvWeights>;
}

type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/**
 * Reads the VGG convolutions of a Keras `.h5` weights file. `expected` (e.g. the model name asked
 * for on the command line) must agree with the file's architecture and breaks the tie for files
 * holding only the first few convolutions.
 */
export async function readKerasVggH5(path: string, expected?: VggArch): Promise<KerasVggWeights> {
  await h5wasm.ready;
  let file: InstanceType<typeof h5wasm.File>;
  try {
    // h5wasm does not report a failed open, so check the HDF5 signature first.
    if (!await hasHdf5Signature(path)) throw new Error("no HDF5 signature");
    file = new h5wasm.File(resolve(path), "r");
  } catch (e) {
    throw new WeightsError(`cannot open ${path} as an HDF5 file: ${messageOf(e)}`, { cause: e });
  }
  try {
    const nested = file.get("model_weights");
    const root: H5Group = nested instanceof h5wasm.Group ? nested : file;
    const layerGroups = new Map<string, H5Group>();
    for (const key of root.keys()) {
      const entity = root.get(key);
      if (/^block\d+_conv\d+$/.test(key) && entity instanceof h5wasm.Group) {
        layerGroups.set(key, entity);
      }
    }
    const arch = detectArch([...layerGroups.keys()], expected, path);
    const convs = new Map<string, ConvWeights>();
    for (const layer of convLayers(arch).slice(0, layerGroups.size)) {
      convs.set(layer.name, readConv(layerGroups.get(layer.kerasName)!, layer, path));
    }
    return { arch, convs };
  } finally {
    file.close();
  }
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 puts its 8-byte signature at offset 0, 512, 1024, 2048, … (after an optional user block). */
async function hasHdf5Signature(path: string): Promise<boolean> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const head = new Uint8Array(8);
  for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
    await file.seek(offset, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < 8) {
      const n = await file.read(head.subarray(filled));
      if (n === null) return false;
      filled += n;
    }
    if (head.every((b, i) => b === HDF5_SIGNATURE[i])) return true;
  }
  return false;
}

/** The architecture whose leading convolutions are exactly `present` (Keras names, any order). */
function detectArch(present: string[], expected: VggArch | undefined, path: string): VggArch {
  if (present.length === 0) {
    throw new WeightsError(`${path} holds no VGG convolution layers (block1_conv1 …)`);
  }
  const fits = (arch: VggArch) => {
    const leading = new Set(convLayers(arch).slice(0, present.length).map((c) => c.kerasName));
    return present.every((name) => leading.has(name));
  };
  const candidates = (["vgg19", "vgg16"] as const).filter(fits);
  if (candidates.length === 0) {
    throw new WeightsError(
      `${path}: the layers ${[...present].sort().join(", ")} are not the leading convolutions ` +
        `of VGG19 or VGG16`,
    );
  }
  if (expected && !candidates.includes(expected)) {
    throw new WeightsError(`${path} holds ${candidates[0]} weights, not ${expected}`);
  }
  return expected ?? candidates[0];
}

function readConv(group: H5Group, layer: ConvLayer, path: string): ConvWeights {
  const datasets = collectDatasets(group, 2);
  const where = `${path}: ${group.path}`;
  const pick = (rank: number, what: string): H5Dataset => {
    const found = datasets.filter((d) => d.shape?.length === rank);
    if (found.length !== 1) {
      throw new WeightsError(`${where} should hold one ${what} (${rank}-D), found ${found.length}`);
    }
    return found[0];
  };
  const kernel = pick(4, "kernel");
  const bias = pick(1, "bias");
  const kernelShape = [3, 3, layer.inChannels, layer.outChannels];
  if (kernel.shape!.join() !== kernelShape.join()) {
    const channelsFirst = kernel.shape!.join() ===
      [layer.outChannels, layer.inChannels, 3, 3].join();
    throw new WeightsError(
      `${where}: kernel shape [${kernel.shape}] is not [${kernelShape}]` +
        (channelsFirst ? " (channels-first Theano layout: use the tf_dim_ordering file)" : ""),
    );
  }
  if (bias.shape![0] !== layer.outChannels) {
    throw new WeightsError(`${where}: bias shape [${bias.shape}] is not [${layer.outChannels}]`);
  }
  return { kernel: floats(kernel, where), bias: floats(bias, where) };
}

/** Datasets in `group` and its subgroups, down to `depth` levels. */
function collectDatasets(group: H5Group, depth: number): H5Dataset[] {
  const out: H5Dataset[] = [];
  for (const key of group.keys()) {
    const entity = group.get(key);
    if (entity instanceof h5wasm.Dataset) out.push(entity);
    else if (entity instanceof h5wasm.Group && depth > 1) {
      out.push(...collectDatasets(entity, depth - 1));
    }
  }
  return out;
}

function floats(dataset: H5Dataset, where: string): Float32Array {
  const value = dataset.value;
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array) return Float32Array.from(value);
  throw new WeightsError(`${where}: ${dataset.path} is ${dataset.dtype}, expected floating point`);
}

/** Options for {@link importKerasH5}. */
export interface ImportKerasH5Options {
  /** Architecture the caller expects (the model name asked for). */
  readonly expected?: VggArch;
  /** Replace an existing model folder. */
  readonly force?: boolean;
  /** Provenance stored in `model.json`; default names the source file. */
  readonly generatedBy?: string;
  /** Largest shard in bytes (default 4 MiB). */
  readonly shardBytes?: number;
}

/** What an import wrote. */
export interface ImportResult {
  /** Architecture imported. */
  readonly arch: VggArch;
  /** Convolutions written (Gatys' names). */
  readonly convs: string[];
  /** Files written into the model folder. */
  readonly files: string[];
}

/**
 * Converts a Keras VGG `.h5` file into the model folder `modelDir` (e.g. `weights/vgg19`):
 * `model.json`, shards, `README.md`, `SHA256SUMS`, written atomically (temp folder, then rename).
 */
export async function importKerasH5(
  h5Path: string,
  modelDir: string,
  options: ImportKerasH5Options = {},
): Promise<ImportResult> {
  const { arch, convs } = await readKerasVggH5(h5Path, options.expected);
  const files = await writeWeightsDir(modelDir, arch, convs, {
    generatedBy: options.generatedBy ?? `Keras weights file ${basename(h5Path)}`,
    force: options.force,
    shardBytes: options.shardBytes,
  });
  return { arch, convs: [...convs.keys()], files };
}
