/**
 * The engine registry: engine names as written in recipes (`engine:`) and on the CLI (`--engine`),
 * and `auto`, which picks the fastest engine that can run here.
 */
import { type Engine, type EngineProvider, EngineUnavailableError } from "./engine.ts";
import { onnxProvider } from "./onnx/engine.ts";
import { tfjsCpuProvider } from "./tfjs_cpu.ts";
import { tfjsNodeGpuProvider, tfjsNodeProvider } from "./tfjs_node.ts";
import { tfjsWasmProvider } from "./tfjs_wasm.ts";
import { tfjsWebgpuProvider } from "./tfjs_webgpu.ts";

/** Every engine provider, in the order they are listed to users. */
const providers: readonly EngineProvider[] = [
  tfjsNodeGpuProvider,
  tfjsNodeProvider,
  onnxProvider,
  tfjsWasmProvider,
  tfjsCpuProvider,
  tfjsWebgpuProvider,
];

/** What `auto` tries, in order: the GPU plugin, then the fast CPU engine, then wasm. */
const AUTO_ORDER = ["tfjs-node-gpu", "onnx", "wasm"] as const;

/** Names accepted by {@link createEngine}: `auto` and every provider's name. */
export const engineNames: readonly string[] = ["auto", ...providers.map((p) => p.name)];

/** The provider named `name` (not `auto`); throws listing the known names. */
function providerNamed(name: string): EngineProvider {
  const provider = providers.find((p) => p.name === name);
  if (!provider) {
    throw new RangeError(`unknown engine "${name}"; engines: ${engineNames.join(", ")}`);
  }
  return provider;
}

/** The provider `auto` resolves to here: the first available of tfjs-node-gpu, onnx, wasm. */
export async function autoProvider(): Promise<EngineProvider> {
  for (const name of AUTO_ORDER) {
    const provider = providers.find((p) => p.name === name);
    if (provider && await provider.available()) return provider;
  }
  throw new EngineUnavailableError("auto", "no engine is available (not even wasm)");
}

/**
 * Creates the engine `name` (auto | onnx | wasm | cpu | webgpu | tfjs-node | tfjs-node-gpu).
 * Unknown names throw a RangeError listing the names; engines that cannot run here throw
 * {@link EngineUnavailableError} saying what to install.
 */
export async function createEngine(name: string): Promise<Engine> {
  const provider = name === "auto" ? await autoProvider() : providerNamed(name);
  return await provider.create();
}

/** Whether each engine (not `auto`) can run here. */
export async function engineAvailability(): Promise<Record<string, boolean>> {
  const result: Record<string, boolean> = {};
  for (const p of providers) result[p.name] = await p.available();
  return result;
}
