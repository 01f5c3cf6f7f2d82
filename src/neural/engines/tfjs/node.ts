/**
 * The `tfjs-node` and `tfjs-node-gpu` engines: TensorFlow's C library through @tensorflow/tfjs-node
 * (CPU) or @tensorflow/tfjs-node-gpu (CUDA). These packages are optional: they are imported
 * dynamically only when the engine is chosen or `auto` probes for it, and a missing package is an
 * {@link EngineUnavailableError} naming the install command.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { EngineUnavailableError } from "../engine.ts";
import { TfjsEngine, type TfjsEngineProvider } from "./engine.ts";
import { messageOf } from "../../../util/errors.ts";

/** The tfjs backend both packages register. */
const BACKEND = "tensorflow";

/** Whether the machine exposes a CUDA GPU (Linux NVIDIA driver; CUDA_VISIBLE_DEVICES not hiding it). */
export async function cudaGpuPresent(): Promise<boolean> {
  const visible = Deno.env.get("CUDA_VISIBLE_DEVICES");
  if (visible !== undefined && (visible.trim() === "" || visible.trim() === "-1")) return false;
  try {
    for await (const _ of Deno.readDir("/proc/driver/nvidia/gpus")) return true;
  } catch {
    // no NVIDIA driver
  }
  return false;
}

/** Imports `pkg`; true when it registered the tensorflow backend in this process' tfjs-core. */
async function loadPackage(pkg: string): Promise<{ ok: boolean; reason: string }> {
  try {
    // A variable specifier: the package is optional and must not be resolved unless chosen.
    const specifier = pkg;
    await import(specifier);
  } catch (e) {
    return {
      ok: false,
      reason: `${pkg} is not installed (${messageOf(e).split("\n")[0]})`,
    };
  }
  if (!tf.findBackendFactory(BACKEND)) {
    return {
      ok: false,
      reason: `${pkg} loaded but did not register its backend with @tensorflow/tfjs-core ` +
        `${tf.version_core}; install the matching version (${pkg}@${tf.version_core})`,
    };
  }
  return { ok: true, reason: "" };
}

function nodeProvider(name: "tfjs-node" | "tfjs-node-gpu"): TfjsEngineProvider {
  const pkg = `@tensorflow/${name}`;
  const gpu = name === "tfjs-node-gpu";
  const install = `npm install ${pkg}` +
    ` (for Deno: add "${pkg}": "npm:${pkg}@${tf.version_core}" to deno.json imports)`;
  return {
    name,
    async available() {
      if (gpu && !await cudaGpuPresent()) return false;
      return (await loadPackage(pkg)).ok;
    },
    async create() {
      const { ok, reason } = await loadPackage(pkg);
      if (!ok) {
        const needs = gpu ? " It also needs an NVIDIA GPU with CUDA and cuDNN." : "";
        throw new EngineUnavailableError(
          name,
          `engine ${name} is unavailable: ${reason}. Install it with: ${install}.${needs}`,
        );
      }
      if (gpu && !await cudaGpuPresent()) {
        throw new EngineUnavailableError(
          name,
          `engine ${name} needs a CUDA GPU (NVIDIA driver, CUDA and cuDNN) and none is visible; ` +
            `use engine tfjs-node, onnx or wasm instead`,
        );
      }
      if (!await tf.setBackend(BACKEND)) {
        throw new EngineUnavailableError(name, `the ${pkg} backend failed to initialize`);
      }
      return new TfjsEngine({
        name,
        backend: BACKEND,
        description: `${pkg} (TensorFlow C library${gpu ? ", CUDA" : ""}), tfjs ${tf.version_core}`,
        convInputGrad: "builtin",
      });
    },
  };
}

/** Provider of `tfjs-node` (TensorFlow C library on the CPU). */
export const tfjsNodeProvider: TfjsEngineProvider = nodeProvider("tfjs-node");

/** Provider of `tfjs-node-gpu` (the GPU plugin; needs @tensorflow/tfjs-node-gpu and a CUDA GPU). */
export const tfjsNodeGpuProvider: TfjsEngineProvider = nodeProvider("tfjs-node-gpu");
