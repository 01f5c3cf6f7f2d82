/**
 * The `webgpu` engine: @tensorflow/tfjs-backend-webgpu on Deno's navigator.gpu. Without a GPU, a
 * software Vulkan adapter (Debian's mesa-vulkan-drivers, llvmpipe) makes it run, slowly but for real.
 */
import * as tf from "@tensorflow/tfjs-core";
import { EngineUnavailableError } from "../engine.ts";
import { TfjsEngine, type TfjsEngineProvider } from "./engine.ts";
import { messageOf } from "../../../util/errors.ts";

/** The WebGPU adapter Deno offers, or null (no navigator.gpu, no adapter). Never throws. */
async function requestAdapter(): Promise<GPUAdapter | null> {
  try {
    if (typeof navigator === "undefined" || !("gpu" in navigator)) return null;
    return await navigator.gpu.requestAdapter();
  } catch {
    return null;
  }
}

/** Whether an adapter is a software rasterizer (llvmpipe/lavapipe, SwiftShader, WARP, a fallback). */
export function isSoftwareAdapter(
  info: { description?: string; device?: string; vendor?: string; architecture?: string },
  isFallback = false,
): boolean {
  const text = [info.description, info.device, info.vendor, info.architecture].join(" ");
  return isFallback ||
    /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i.test(text);
}

/** Whether navigator.gpu offers a hardware adapter (what `auto` needs to pick webgpu). Never throws. */
export async function hardwareWebgpuAvailable(): Promise<boolean> {
  const adapter = await requestAdapter();
  if (!adapter) return false;
  const fallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter.info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return !isSoftwareAdapter(adapter.info, fallback);
}

/** Provider of the `webgpu` engine; available when navigator.gpu yields an adapter. */
export const tfjsWebgpuProvider: TfjsEngineProvider = {
  name: "webgpu",
  available: async () => (await requestAdapter()) !== null,
  async create() {
    const adapter = await requestAdapter();
    if (!adapter) {
      throw new EngineUnavailableError(
        "webgpu",
        "engine webgpu needs a WebGPU adapter and navigator.gpu found none; on Debian/Ubuntu without " +
          "a GPU, `apt-get install mesa-vulkan-drivers` provides a software one",
      );
    }
    await import("@tensorflow/tfjs-backend-webgpu");
    let ok = false;
    let reason = "";
    try {
      ok = await tf.setBackend("webgpu");
    } catch (e) {
      reason = `: ${messageOf(e)}`;
    }
    if (!ok) {
      throw new EngineUnavailableError(
        "webgpu",
        `the tfjs webgpu backend failed to start${reason}`,
      );
    }
    const info = adapter.info;
    const device = info.description || `${info.vendor} ${info.device}`.trim();
    return new TfjsEngine({
      name: "webgpu",
      backend: "webgpu",
      description: `tfjs ${tf.version_core} webgpu backend (${device})`,
      convInputGrad: "builtin",
    });
  },
};
