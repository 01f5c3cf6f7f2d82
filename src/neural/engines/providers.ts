/**
 * The engine registry: engine names as written in recipes (`engine:`) and on the CLI (`--engine`),
 * and `auto`, which picks the fastest engine that can run here.
 */
import { cudaFp32Provider, cudaProvider, cudaSkipReason, cudaTf32Provider } from "./cuda/engine.ts";
import { type Engine, type EngineProvider, EngineUnavailableError } from "./engine.ts";
import { onnxProvider } from "./onnx/engine.ts";
import { tfjsCpuProvider } from "./tfjs/cpu.ts";
import { tfjsNodeGpuProvider, tfjsNodeProvider } from "./tfjs/node.ts";
import { tfjsWasmProvider } from "./tfjs/wasm.ts";
import { hardwareWebgpuAvailable, tfjsWebgpuProvider } from "./tfjs/webgpu.ts";

/** Every engine provider, in the order they are listed to users. */
const providers: readonly EngineProvider[] = [
  cudaProvider,
  cudaFp32Provider,
  cudaTf32Provider,
  tfjsNodeGpuProvider,
  tfjsNodeProvider,
  onnxProvider,
  tfjsWasmProvider,
  tfjsCpuProvider,
  tfjsWebgpuProvider,
];

/**
 * What `auto` tries, in order: the GPU engines (cuda: a GPU and the CUDA libraries; the tfjs GPU
 * plugin; webgpu on a hardware adapter only, never a software one such as llvmpipe), then the
 * fast CPU engine, then wasm.
 */
export const AUTO_ORDER = ["cuda", "tfjs-node-gpu", "webgpu", "onnx", "wasm"] as const;

/** Whether `auto` may pick engine `name` here (webgpu: only on a hardware adapter). Never throws. */
export function usableForAuto(name: string): Promise<boolean> {
  if (name === "webgpu") return hardwareWebgpuAvailable();
  return providerNamed(name).available();
}

/** Names accepted by {@link createEngine}: `auto` and every provider's name. */
export const engineNames: readonly string[] = ["auto", ...providers.map((p) => p.name)];

/** The provider named `name` (not `auto`); throws listing the known names. */
function providerNamed(name: string): EngineProvider {
  const provider = providers.find((p) => p.name === name);
  if (!provider) {
    throw new EngineUnavailableError(
      name,
      `unknown engine "${name}"; engines: ${engineNames.join(", ")}`,
    );
  }
  return provider;
}

/**
 * The provider `auto` resolves to here: the first of {@link AUTO_ORDER} that `usable` accepts
 * (tests inject it; by default {@link usableForAuto}). Where cuda is installed but cannot start or
 * fails its self-check, `warn` gets one line saying why it was passed over.
 */
export async function autoProvider(
  usable: (name: string) => Promise<boolean> = usableForAuto,
  warn: (line: string) => void = (line) => console.warn(line),
): Promise<EngineProvider> {
  for (const name of AUTO_ORDER) {
    if (await usable(name)) return providerNamed(name);
    const skipped = name === "cuda" ? cudaSkipReason() : undefined;
    if (skipped) warn(`warning: engine cuda skipped: ${skipped.split("\n")[0]}`);
  }
  throw new EngineUnavailableError(
    "auto",
    `no engine is available (tried ${AUTO_ORDER.join(", ")})`,
  );
}

/**
 * Creates the engine `name` (auto | cuda | cuda-fp32 | cuda-tf32 | onnx | wasm | cpu | webgpu | tfjs-node | tfjs-node-gpu).
 * Unknown names throw a RangeError listing the names; engines that cannot run here throw
 * {@link EngineUnavailableError} saying what to install.
 *
 * @example The plain-JavaScript reference engine
 * ```ts
 * const engine = await createEngine("cpu");
 * console.log(engine.name, engine.describe());
 * await engine.dispose();
 * ```
 */
export async function createEngine(name: string): Promise<Engine> {
  const provider = name === "auto" ? await autoProvider() : providerNamed(name);
  return await provider.create();
}
