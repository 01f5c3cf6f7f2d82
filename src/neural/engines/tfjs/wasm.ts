/**
 * The `wasm` engine: @tensorflow/tfjs-backend-wasm (XNNPACK), SIMD, single thread. Its conv input
 * gradient is computed as a conv of the flipped, transposed kernel (conv.ts), several times
 * faster than the backend's own Conv2DBackpropInput and equal to it.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { setWasmPaths } from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { EngineUnavailableError } from "../engine.ts";
import { TfjsEngine, type TfjsEngineProvider } from "./engine.ts";
import { messageOf } from "../../../util/errors.ts";

/** The folder (URL, trailing slash) holding the backend's .wasm binaries in node_modules. */
export function wasmBinariesDir(): string {
  const simd = import.meta.resolve(
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
  );
  return new URL("./", simd).href;
}

/** Registers the wasm binaries' location and initializes the backend (SIMD, one thread). */
async function initWasm(): Promise<boolean> {
  if (tf.engine().registry["wasm"]) return await tf.setBackend("wasm");
  setWasmPaths(wasmBinariesDir());
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  return await tf.setBackend("wasm");
}

/** Provider of the `wasm` engine. */
export const tfjsWasmProvider: TfjsEngineProvider = {
  name: "wasm",
  available: () => Promise.resolve(typeof WebAssembly === "object"),
  async create() {
    let ok = false;
    let reason = "";
    try {
      ok = await initWasm();
    } catch (e) {
      reason = `: ${messageOf(e)}`;
    }
    if (!ok) {
      throw new EngineUnavailableError(
        "wasm",
        `the tfjs wasm backend failed to initialize (binaries looked for in ${wasmBinariesDir()})` +
          reason,
      );
    }
    const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD";
    return new TfjsEngine({
      name: "wasm",
      backend: "wasm",
      description: `tfjs ${tf.version_core} wasm backend (${simd}, 1 thread)`,
      convInputGrad: "flipped",
    });
  },
};
