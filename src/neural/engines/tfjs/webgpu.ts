/**
 * The `webgpu` engine: @tensorflow/tfjs-backend-webgpu on Deno's navigator.gpu. Without a GPU, a
 * software Vulkan adapter (Debian's mesa-vulkan-drivers, llvmpipe) makes it run, slowly but for real.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { EngineUnavailableError } from "../engine.ts";
import { TfjsEngine, type TfjsEngineProvider } from "./engine.ts";
import { messageOf } from "../../../util/errors.ts";

/** The WebGPU adapter Deno offers, or null (no navigator.gpu, no adapter). Never throws. */
async function requestAdapter(): Promise<GPUAdapter | null> {
  try {
    if (typeof navigator === "undefined" || !("gpu" in navigator)) return null;
    return await withRuntimeDir(() => navigator.gpu.requestAdapter());
  } catch {
    return null;
  }
}

/**
 * Runs `probe` with `XDG_RUNTIME_DIR` set (to a private empty folder when the environment has
 * none): without it, the Vulkan loader's Wayland check prints "error: XDG_RUNTIME_DIR is invalid or
 * not set in the environment." twice on stderr, which the user cannot act on.
 */
async function withRuntimeDir<T>(probe: () => Promise<T>): Promise<T> {
  if (Deno.env.get("XDG_RUNTIME_DIR")) return await probe();
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-xdg-" });
  Deno.env.set("XDG_RUNTIME_DIR", dir);
  try {
    return await probe();
  } finally {
    Deno.env.delete("XDG_RUNTIME_DIR");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Whether this machine can have a hardware GPU adapter at all: on Linux, a GPU shows up as a DRM
 * render node or an NVIDIA device file. Where neither exists `auto` skips the adapter probe.
 */
export function gpuDeviceFilesPresent(
  exists: (path: string) => boolean = pathExists,
): boolean {
  if (Deno.build.os !== "linux") return true;
  return exists("/dev/dri") || exists("/dev/nvidia0") || exists("/dev/dxg");
}

function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
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
  if (!gpuDeviceFilesPresent()) return false;
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
    await import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0");
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
