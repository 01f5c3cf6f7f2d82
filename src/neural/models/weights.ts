/**
 * Finding, verifying and loading VGG weights stored as TensorFlow.js layers-models: a folder named
 * after the model (`vgg19/`) holding `model.json`, its shards and `SHA256SUMS`, looked up in a list
 * of weights folders (callers pass `$STYLEPIPE_WEIGHTS`, then `./weights`; see `weightsSearchDirs`).
 */
import { stylepipeCommand } from "../../util/invocation.ts";
import { join } from "node:path";
import { sha256Hex, sha256Parts } from "../../util/hash.ts";
import { convFor, convLayers, type VggArch } from "./layers.ts";
import { parseSha256Sums } from "./sha256sums.ts";
import {
  convWeightsFrom,
  decodeGroup,
  type LayersModel,
  parseLayersModel,
} from "./tfjs_layers_model.ts";
import type { VggWeights } from "./weights_types.ts";
import { WeightsError } from "./weights_error.ts";
import { messageOf } from "../../util/errors.ts";

export { WeightsError };

/** Options for {@link loadVggWeights}. */
export interface LoadWeightsOptions {
  /**
   * Accept a folder without `SHA256SUMS` (files are then used unchecked). A folder that has one is
   * always verified, and a mismatch is always an error.
   */
  readonly allowUnverified?: boolean;
}

/** What a weights folder offers, read from its `model.json` alone (for recipe validation). */
export interface AvailableConvs {
  /** Architecture detected from the layer list. */
  readonly arch: VggArch;
  /** Convolutions present (Gatys' names), in forward order: a prefix of the architecture. */
  readonly convs: string[];
  /** The model folder, as found (relative paths stay relative, for messages). */
  readonly dir: string;
  /** The model name looked up, e.g. `vgg19`. */
  readonly model: string;
}

/** The weights folders to search, in order: `$STYLEPIPE_WEIGHTS` when set, then `./weights`. */
export function weightsSearchDirs(): string[] {
  const fromEnv = Deno.env.get("STYLEPIPE_WEIGHTS");
  return fromEnv ? [fromEnv, "weights"] : ["weights"];
}

/**
 * The first `<dir>/<model>` holding a `model.json`, trying `dirs` in order. Throws a
 * {@link WeightsError} naming every place it looked and the command that downloads the model.
 */
export async function findModelDir(dirs: readonly string[], model: string): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(model)) {
    throw new WeightsError(`"${model}" is not a model name (letters, digits, ".", "_", "-")`);
  }
  const looked: string[] = [];
  for (const dir of dirs) {
    const candidate = join(dir, model);
    if (await isFile(join(candidate, "model.json"))) return candidate;
    looked.push(await isDirectory(candidate) ? `${candidate} (no model.json)` : candidate);
  }
  throw new WeightsError(
    `no "${model}" weights found (looked in ${looked.join(", ") || "no folders"}). ` +
      `Run "${stylepipeCommand()} weights ${model}" to download them, or set STYLEPIPE_WEIGHTS to a folder ` +
      `that contains ${model}/.`,
  );
}

/** Reads a model folder's `model.json` only and reports its architecture and convolutions. */
export async function availableConvs(
  dirs: readonly string[],
  model: string,
): Promise<AvailableConvs> {
  const dir = await findModelDir(dirs, model);
  const source = join(dir, "model.json");
  const parsed = parseLayersModel(parseJson(await readFile(source), source), source, model);
  return { arch: parsed.arch, convs: parsed.convs.map((c) => c.layer.name), dir, model };
}

const cache = new Map<string, Promise<VggWeights>>();

/**
 * Loads the model's weights after verifying every file it uses (`model.json` and the shards)
 * against the folder's `SHA256SUMS`; a mismatch or an unlisted file is a {@link WeightsError}
 * naming the file. Results are cached per folder and `SHA256SUMS` content for the process.
 * `id` is the SHA-256 of the `SHA256SUMS` text (or, unverified, of `model.json` and the shards).
 */
export async function loadVggWeights(
  dirs: readonly string[],
  model: string,
  options: LoadWeightsOptions = {},
): Promise<VggWeights> {
  const dir = await findModelDir(dirs, model);
  const sumsPath = join(dir, "SHA256SUMS");
  let sumsText: string | undefined;
  if (await isFile(sumsPath)) sumsText = await Deno.readTextFile(sumsPath);
  else if (!options.allowUnverified) {
    throw new WeightsError(
      `${sumsPath} is missing, so the weights in ${dir} cannot be verified. Re-create the folder ` +
        `with "${stylepipeCommand()} weights ${model} --force", or allow unverified weights explicitly.`,
    );
  }
  const key = `${await Deno.realPath(dir)}\u0000${
    sumsText === undefined ? "" : sha256Hex(sumsText)
  }`;
  let loading = cache.get(key);
  if (!loading) {
    loading = readWeights(dir, model, sumsText);
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return await loading;
}

async function readWeights(
  dir: string,
  model: string,
  sumsText: string | undefined,
): Promise<VggWeights> {
  const sums = sumsText === undefined
    ? undefined
    : parseSha256Sums(sumsText, join(dir, "SHA256SUMS"));
  const readVerified = async (name: string): Promise<Uint8Array> => {
    const bytes = await readFile(join(dir, name));
    if (sums) {
      const expected = sums.get(name);
      if (expected === undefined) {
        throw new WeightsError(`${join(dir, name)} is not listed in ${join(dir, "SHA256SUMS")}`);
      }
      if (sha256Hex(bytes) !== expected) {
        throw new WeightsError(
          `${join(dir, name)} does not match its SHA-256 in ${join(dir, "SHA256SUMS")}: the file ` +
            `is corrupt or was changed. Re-create it with "${stylepipeCommand()} weights ${model} --force".`,
        );
      }
    }
    return bytes;
  };

  const modelJsonBytes = await readVerified("model.json");
  const source = join(dir, "model.json");
  const parsed: LayersModel = parseLayersModel(
    parseJson(modelJsonBytes, source),
    source,
    model,
  );
  const wanted = new Set(parsed.convs.flatMap((c) => [c.kernel, c.bias]));
  const tensors = new Map<string, Float32Array>();
  const shardBytes: Uint8Array[] = [];
  for (const group of parsed.groups) {
    if (!group.weights.some((w) => wanted.has(w.name))) continue;
    const shards = [];
    for (const path of group.paths) shards.push(await readVerified(path));
    shardBytes.push(...shards);
    for (const [name, values] of decodeGroup(group, shards, wanted, source)) {
      tensors.set(name, values);
    }
  }
  const id = sumsText === undefined
    ? sha256Parts([modelJsonBytes, ...shardBytes])
    : sha256Hex(sumsText);
  return { arch: parsed.arch, convs: convWeightsFrom(parsed, tensors), id };
}

/**
 * The validation-time check for a recipe's layers: undefined when every layer can be computed from
 * `available`, else the message for the first that cannot, naming it and the deepest usable layer.
 */
export function requireLayers(
  available: AvailableConvs,
  layers: readonly string[],
): string | undefined {
  const { arch, convs, dir } = available;
  for (const layer of layers) {
    const conv = convFor(arch, layer);
    if (!conv) {
      const last = convLayers(arch).at(-1)!.name;
      return `layer "${layer}" is not a ${arch} layer (names are conv1_1 … ${last}, ` +
        `relu1_1 … ${last.replace("conv", "relu")}, pool1 … pool5)`;
    }
    if (!convs.includes(conv.name)) {
      const last = convs.at(-1)!;
      return `layer "${layer}" is not in the ${arch} weights found in ${dir} (they stop at ` +
        `${last}; ${last.replace("conv", "relu")} is the deepest usable layer). ` +
        `Run "${stylepipeCommand()} weights ${arch}" to download the full set.`;
    }
  }
  return undefined;
}

async function readFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new WeightsError(`${path} is missing`);
    throw new WeightsError(`cannot read ${path}: ${messageOf(e)}`, { cause: e });
  }
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new WeightsError(`${source} is not valid JSON: ${messageOf(e)}`, { cause: e });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
