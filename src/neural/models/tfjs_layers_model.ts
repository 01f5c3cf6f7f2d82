/**
 * The TensorFlow.js "layers-model" format for (possibly truncated) VGG networks: `model.json`
 * (`modelTopology` + `weightsManifest`) and its binary shards. Reads, checks and decodes it for the
 * loader, and encodes it for the `.h5` importer. Each manifest group's tensors are stored back to
 * back, little-endian, across the group's shards concatenated in `paths` order.
 */
import { concatBytes } from "../../util/bytes.ts";
import { z } from "npm:zod@4.6.7";
import { type ConvLayer, convLayers, type VggArch } from "./layers.ts";
import type { ConvWeights } from "./weights_types.ts";
import { WeightsError } from "./weights_error.ts";

const quantizationSchema = z.object({
  dtype: z.string(),
  scale: z.number().optional(),
  min: z.number().optional(),
}).loose();

const entrySchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.string(),
  quantization: quantizationSchema.optional(),
}).loose();

const groupSchema = z.object({
  paths: z.array(z.string()).min(1),
  weights: z.array(entrySchema),
}).loose();

const layerSchema = z.object({
  name: z.string().optional(),
  class_name: z.string(),
  config: z.object({ name: z.string().optional() }).loose().optional(),
}).loose();

const modelConfigSchema = z.object({
  class_name: z.string(),
  config: z.union([
    z.array(layerSchema),
    z.object({ name: z.string().optional(), layers: z.array(layerSchema) }).loose(),
  ]),
}).loose();

const modelJsonSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(groupSchema).min(1),
}).loose();

/** One tensor of a manifest group. `dtype` is the stored tensor's type before any quantization. */
export type WeightEntry = z.infer<typeof entrySchema>;
/** One manifest group: its shard files (in order) and the tensors they hold back to back. */
export type WeightGroup = z.infer<typeof groupSchema>;

/** A convolution present in the model and the manifest names of its kernel and bias. */
export interface ConvEntry {
  /** The layer (names, channels) from the architecture table. */
  readonly layer: ConvLayer;
  /** Manifest name of the kernel, e.g. `block1_conv1/kernel`. */
  readonly kernel: string;
  /** Manifest name of the bias. */
  readonly bias: string;
}

/** A checked `model.json`: architecture, the convolutions present (a prefix), manifest groups. */
export interface LayersModel {
  /** Architecture detected from the layer list. */
  readonly arch: VggArch;
  /** Convolutions present, in forward order; always a non-empty prefix of the architecture. */
  readonly convs: readonly ConvEntry[];
  /** Manifest groups in file order. */
  readonly groups: readonly WeightGroup[];
}

/** Bytes per stored element for each quantization tfjs-converter can write. */
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };
/** Bytes per stored element for unquantized dtypes (conv weights must be float32). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const TENSOR_NAME = /(?:^|\/)(block\d+_conv\d+)\/(kernel|bias)(?::0)?$/;

/**
 * Parses and checks a `model.json`: the layer list must hold VGG Conv2D layers forming a prefix of
 * VGG19 or VGG16 (`nameHint`, e.g. the folder name, breaks the tie for short prefixes), and every one
 * needs a float32 kernel `[3, 3, in, out]` and bias `[out]` in the manifest.
 */
export function parseLayersModel(json: unknown, source: string, nameHint = ""): LayersModel {
  const parsed = checked(modelJsonSchema, json, source, "");
  // Keras nests the model under `model_config`; tfjs-converter's newer output does not.
  const topology = parsed.modelTopology;
  const prefix = "model_config" in topology ? "modelTopology.model_config" : "modelTopology";
  const { config } = checked(modelConfigSchema, topology.model_config ?? topology, source, prefix);
  const layers = Array.isArray(config) ? config : config.layers;
  const modelName = Array.isArray(config) ? "" : config.name ?? "";
  const layerNames = layers.map((l) => l.name ?? l.config?.name ?? "");
  const convNames = layers.filter((l) => l.class_name === "Conv2D").map((l) =>
    l.name ?? l.config?.name ?? ""
  );
  if (convNames.length === 0) throw new WeightsError(`${source} has no Conv2D layers`);
  const arch = detectArch(convNames, layerNames, `${modelName} ${nameHint}`, source);

  const groups = parsed.weightsManifest;
  const byName = new Map<string, WeightEntry>();
  for (const group of groups) {
    for (const path of group.paths) checkShardPath(path, source);
    for (const entry of group.weights) {
      storedBytesPerElement(entry, source);
      byName.set(entry.name, entry);
    }
  }
  const tensorNames = new Map<string, string>();
  for (const name of byName.keys()) {
    const m = TENSOR_NAME.exec(name);
    if (m) tensorNames.set(`${m[1]}/${m[2]}`, name);
  }
  const convs = convLayers(arch).slice(0, convNames.length).map((layer) => {
    const find = (kind: "kernel" | "bias", shape: number[]): string => {
      const name = tensorNames.get(`${layer.kerasName}/${kind}`);
      if (name === undefined) {
        throw new WeightsError(`${source}: the manifest has no ${kind} for ${layer.kerasName}`);
      }
      const entry = byName.get(name)!;
      if (entry.dtype !== "float32") {
        throw new WeightsError(`${source}: ${name} has dtype ${entry.dtype}, expected float32`);
      }
      if (entry.shape.join() !== shape.join()) {
        throw new WeightsError(
          `${source}: ${name} has shape [${entry.shape}], but ${arch} ${layer.name} needs [${shape}]`,
        );
      }
      return name;
    };
    return {
      layer,
      kernel: find("kernel", [3, 3, layer.inChannels, layer.outChannels]),
      bias: find("bias", [layer.outChannels]),
    };
  });
  return { arch, convs, groups };
}

function checked<T>(schema: z.ZodType<T>, value: unknown, source: string, prefix: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".") || "(root)";
  throw new WeightsError(
    `${source} is not a TensorFlow.js layers-model: ${path}: ${issue.message}`,
  );
}

/**
 * Picks the architecture whose conv list starts with `convNames` (Keras names, forward order).
 * A prefix ending by block3_conv3 fits both: a `block3_pool` right after it means VGG16, else a
 * "16" in the model or folder name, else VGG19.
 */
function detectArch(
  convNames: string[],
  layerNames: string[],
  hint: string,
  source: string,
): VggArch {
  const fits = (arch: VggArch) => {
    const expected = convLayers(arch).map((c) => c.kerasName);
    return convNames.every((n, i) => n === expected[i]);
  };
  const candidates = (["vgg19", "vgg16"] as const).filter(fits);
  if (candidates.length === 0) {
    const expected = convLayers("vgg19").map((c) => c.kerasName);
    const i = convNames.findIndex((n, k) => n !== expected[k]);
    throw new WeightsError(
      `${source}: the Conv2D layers are not the leading convolutions of VGG19 or VGG16 ` +
        `(layer ${i + 1} is ${convNames[i]}, expected ${expected[i] ?? "none"})`,
    );
  }
  if (candidates.length === 1) return candidates[0];
  const lastConv = layerNames.indexOf(convNames.at(-1)!);
  if (convNames.at(-1) === "block3_conv3" && layerNames[lastConv + 1] === "block3_pool") {
    return "vgg16";
  }
  return /16/.test(hint) ? "vgg16" : "vgg19";
}

/** Shard paths are plain names relative to the model folder: no absolute paths, no `..`. */
function checkShardPath(path: string, source: string): void {
  if (
    path === "" || path.startsWith("/") || path.includes("\\") || path.split("/").includes("..")
  ) {
    throw new WeightsError(`${source}: shard path "${path}" leaves the model folder`);
  }
}

/** Bytes one element of `entry` takes in the shards; rejects what cannot be read. */
function storedBytesPerElement(entry: WeightEntry, source: string): number {
  if (entry.quantization) {
    const bytes = QUANTIZED_BYTES[entry.quantization.dtype];
    if (bytes === undefined) {
      throw new WeightsError(
        `${source}: ${entry.name} uses ${entry.quantization.dtype} quantization, which stylepipe ` +
          `cannot read (supported: none, uint8, uint16, float16); re-export without quantization`,
      );
    }
    const affine = entry.quantization.dtype !== "float16";
    if (
      affine && (entry.quantization.scale === undefined || entry.quantization.min === undefined)
    ) {
      throw new WeightsError(`${source}: ${entry.name} is quantized without scale and min`);
    }
    return bytes;
  }
  const bytes = DTYPE_BYTES[entry.dtype];
  if (bytes === undefined) {
    throw new WeightsError(`${source}: ${entry.name} has unsupported dtype ${entry.dtype}`);
  }
  return bytes;
}

/**
 * Decodes the float32 tensors named in `wanted` from a group's shard bytes (in `paths` order).
 * Quantized tensors are dequantized (uint8/uint16: q·scale + min; float16: widened).
 */
export function decodeGroup(
  group: WeightGroup,
  shards: readonly Uint8Array[],
  wanted: ReadonlySet<string>,
  source: string,
): Map<string, Float32Array> {
  const bytes = shards.length === 1 ? shards[0] : concatBytes(shards);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const entry of group.weights) {
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const size = count * storedBytesPerElement(entry, source);
    if (offset + size > bytes.byteLength) {
      throw new WeightsError(
        `${source}: shards ${group.paths.join(", ")} hold ${bytes.byteLength} bytes, but the ` +
          `manifest needs more (${entry.name} ends at byte ${offset + size})`,
      );
    }
    if (wanted.has(entry.name)) out.set(entry.name, decodeTensor(view, offset, count, entry));
    offset += size;
  }
  if (offset !== bytes.byteLength) {
    throw new WeightsError(
      `${source}: shards ${group.paths.join(", ")} hold ${bytes.byteLength} bytes, ` +
        `the manifest describes ${offset}`,
    );
  }
  return out;
}

function decodeTensor(view: DataView, offset: number, count: number, e: WeightEntry): Float32Array {
  const out = new Float32Array(count);
  const q = e.quantization;
  if (!q) {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  } else if (q.dtype === "float16") {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
  } else {
    const scale = q.scale!, min = q.min!;
    const wide = q.dtype === "uint16";
    for (let i = 0; i < count; i++) {
      const v = wide ? view.getUint16(offset + 2 * i, true) : view.getUint8(offset + i);
      out[i] = v * scale + min;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Collects each present conv's kernel and bias (keyed by Gatys' name) from decoded tensors. */
export function convWeightsFrom(
  model: LayersModel,
  tensors: ReadonlyMap<string, Float32Array>,
): Map<string, ConvWeights> {
  return new Map(model.convs.map((c) => [c.layer.name, {
    kernel: tensors.get(c.kernel)!,
    bias: tensors.get(c.bias)!,
  }]));
}

/** A shard file to write: its name in the model folder and its bytes. */
export interface Shard {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/**
 * Encodes one conv as manifest group `index` (1-based): kernel then bias, float32 little-endian,
 * split into shards of at most `shardBytes` (tfjs-converter's default is 4 MiB).
 */
export function encodeConvGroup(
  index: number,
  layer: ConvLayer,
  weights: ConvWeights,
  shardBytes = 4 * 1024 * 1024,
): { group: WeightGroup; shards: Shard[] } {
  const count = weights.kernel.length + weights.bias.length;
  const bytes = new Uint8Array(4 * count);
  const view = new DataView(bytes.buffer);
  weights.kernel.forEach((v, i) => view.setFloat32(4 * i, v, true));
  const biasOffset = 4 * weights.kernel.length;
  weights.bias.forEach((v, i) => view.setFloat32(biasOffset + 4 * i, v, true));
  const n = Math.max(1, Math.ceil(bytes.byteLength / shardBytes));
  const shards = Array.from({ length: n }, (_, j) => ({
    path: `group${index}-shard${j + 1}of${n}`,
    bytes: bytes.subarray(j * shardBytes, Math.min(bytes.byteLength, (j + 1) * shardBytes)),
  }));
  const group: WeightGroup = {
    paths: shards.map((s) => s.path),
    weights: [
      {
        name: `${layer.kerasName}/kernel`,
        shape: [3, 3, layer.inChannels, layer.outChannels],
        dtype: "float32",
      },
      { name: `${layer.kerasName}/bias`, shape: [layer.outChannels], dtype: "float32" },
    ],
  };
  return { group, shards };
}

/**
 * The `model.json` text for a truncated VGG: a Keras functional `modelTopology` (input, the convs
 * with ReLU, a max pool after each complete block that more layers follow, or after block 5) and
 * the given manifest groups.
 */
export function layersModelJson(
  arch: VggArch,
  convCount: number,
  groups: readonly WeightGroup[],
  generatedBy: string,
): string {
  const all = convLayers(arch);
  const convs = all.slice(0, convCount);
  const layers: unknown[] = [{
    name: "input_1",
    class_name: "InputLayer",
    config: {
      batch_input_shape: [null, null, null, 3],
      dtype: "float32",
      sparse: false,
      name: "input_1",
    },
    inbound_nodes: [],
  }];
  let previous = "input_1";
  const add = (name: string, className: string, config: Record<string, unknown>) => {
    layers.push({
      name,
      class_name: className,
      config: { name, trainable: false, ...config },
      inbound_nodes: [[[previous, 0, 0, {}]]],
    });
    previous = name;
  };
  convs.forEach((c, i) => {
    add(c.kerasName, "Conv2D", {
      filters: c.outChannels,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: "same",
      data_format: "channels_last",
      dilation_rate: [1, 1],
      activation: "relu",
      use_bias: true,
    });
    const blockEnds = all[i + 1]?.block !== c.block;
    if (blockEnds && (i + 1 < convs.length || i + 1 === all.length)) {
      add(`block${c.block}_pool`, "MaxPooling2D", {
        pool_size: [2, 2],
        padding: "valid",
        strides: [2, 2],
        data_format: "channels_last",
      });
    }
  });
  const modelTopology = {
    backend: "tensorflow",
    model_config: {
      class_name: "Model",
      config: {
        name: arch,
        layers,
        input_layers: [["input_1", 0, 0]],
        output_layers: [[previous, 0, 0]],
      },
    },
  };
  return JSON.stringify(
    { format: "layers-model", generatedBy, modelTopology, weightsManifest: groups },
    null,
    1,
  ) + "\n";
}
