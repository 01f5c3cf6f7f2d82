/**
 * Compiles the engine's kernels (kernels.ts) with NVRTC into a CUBIN for one GPU architecture
 * (`sm_90`, …): no GPU is needed to compile, only libnvrtc, so this runs (and is tested) anywhere
 * NVRTC is installed.
 */
import { cString, cStringBytes, type CudaApi, CudaError, keepAlive, outPointer } from "./ffi.ts";
import { KERNEL_SOURCE } from "./kernels.ts";

/** A checker for NVRTC status codes (throws CudaError naming `call`). */
export function nvrtcCheck(nvrtc: CudaApi["nvrtc"], call: string): (code: number) => void {
  return (code) => {
    if (code !== 0) throw new CudaError(call, code, cString(nvrtc.nvrtcGetErrorString(code)));
  };
}

/** CUBINs compiled in this process, per architecture (an engine is created more than once). */
const compiled = new Map<string, Uint8Array<ArrayBuffer>>();

/** The CUBIN of {@link KERNEL_SOURCE} for `arch`; throws CudaError with NVRTC's log on failure. */
export function compileKernels(nvrtc: CudaApi["nvrtc"], arch: string): Uint8Array<ArrayBuffer> {
  const cached = compiled.get(arch);
  if (cached) return cached;
  const cubin = compile(nvrtc, arch);
  compiled.set(arch, cubin);
  return cubin;
}

function compile(nvrtc: CudaApi["nvrtc"], arch: string): Uint8Array<ArrayBuffer> {
  const prog = outPointer(
    (c) =>
      nvrtc.nvrtcCreateProgram(
        c,
        cStringBytes(KERNEL_SOURCE),
        cStringBytes("stylepipe.cu"),
        0,
        null,
        null,
      ),
    nvrtcCheck(nvrtc, "nvrtcCreateProgram"),
  );
  try {
    // No FMA contraction: the vector ops must round as JavaScript does (see kernels.ts).
    const options = [`--gpu-architecture=${arch}`, "--fmad=false"].map(cStringBytes);
    const optionPtrs = new BigUint64Array(
      options.map((o) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(o)))),
    );
    const status = nvrtc.nvrtcCompileProgram(prog, options.length, optionPtrs);
    keepAlive(options);
    if (status !== 0) {
      const size = new BigUint64Array(1);
      nvrtc.nvrtcGetProgramLogSize(prog, size);
      const log = new Uint8Array(Number(size[0]));
      nvrtc.nvrtcGetProgramLog(prog, log);
      const text = new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0))));
      throw new CudaError(
        "nvrtcCompileProgram",
        status,
        cString(nvrtc.nvrtcGetErrorString(status)),
        {
          detail: text,
        },
      );
    }
    const size = new BigUint64Array(1);
    nvrtcCheck(nvrtc, "nvrtcGetCUBINSize")(nvrtc.nvrtcGetCUBINSize(prog, size));
    const cubin = new Uint8Array(Number(size[0]));
    nvrtcCheck(nvrtc, "nvrtcGetCUBIN")(nvrtc.nvrtcGetCUBIN(prog, cubin));
    return cubin;
  } finally {
    nvrtc.nvrtcDestroyProgram(new BigUint64Array([BigInt(Deno.UnsafePointer.value(prog))]));
  }
}
