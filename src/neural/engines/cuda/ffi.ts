/**
 * Deno FFI bindings of the C functions the cuda engine calls: the CUDA runtime (memory, copies,
 * device attributes), the driver (modules and kernel launches of NVRTC's output), NVRTC, cuBLAS and
 * cuDNN 9. Signatures as in the CUDA 12/13 and cuDNN 9 headers; out-parameters are `buffer`s.
 * {@link openCuda} opens them from the paths libraries.ts found.
 */
import type { CudaLibraries } from "./libraries.ts";

const P = "pointer" as const;
const B = "buffer" as const;
const I = "i32" as const;
const U = "usize" as const;

/** The CUDA runtime functions the engine calls (exported for the binding test). */
export const cudartSymbols = {
  cudaGetDeviceCount: { parameters: [B], result: I },
  cudaSetDevice: { parameters: [I], result: I },
  cudaFree: { parameters: [P], result: I },
  cudaMalloc: { parameters: [B, U], result: I },
  cudaMemset: { parameters: [P, I, U], result: I },
  cudaMemcpyHtoD: { name: "cudaMemcpy", parameters: [P, B, U, I], result: I },
  cudaMemcpyDtoH: { name: "cudaMemcpy", parameters: [B, P, U, I], result: I },
  cudaMemcpyDtoD: { name: "cudaMemcpy", parameters: [P, P, U, I], result: I },
  cudaDeviceSynchronize: { parameters: [], result: I },
  cudaDeviceGetAttribute: { parameters: [B, I, I], result: I },
  cudaRuntimeGetVersion: { parameters: [B], result: I },
  cudaDriverGetVersion: { parameters: [B], result: I },
  cudaGetErrorString: { parameters: [I], result: P },
} as const;

const driverSymbols = {
  cuInit: { parameters: ["u32"], result: I },
  cuDeviceGetName: { parameters: [B, I, I], result: I },
  cuModuleLoadData: { parameters: [B, B], result: I },
  cuModuleGetFunction: { parameters: [B, P, B], result: I },
  cuModuleUnload: { parameters: [P], result: I },
  cuLaunchKernel: {
    parameters: [P, "u32", "u32", "u32", "u32", "u32", "u32", "u32", P, B, P],
    result: I,
  },
} as const;

const nvrtcSymbols = {
  nvrtcVersion: { parameters: [B, B], result: I },
  nvrtcCreateProgram: { parameters: [B, B, B, I, P, P], result: I },
  nvrtcCompileProgram: { parameters: [P, I, B], result: I },
  nvrtcGetProgramLogSize: { parameters: [P, B], result: I },
  nvrtcGetProgramLog: { parameters: [P, B], result: I },
  nvrtcGetCUBINSize: { parameters: [P, B], result: I },
  nvrtcGetCUBIN: { parameters: [P, B], result: I },
  nvrtcDestroyProgram: { parameters: [B], result: I },
  nvrtcGetErrorString: { parameters: [I], result: P },
} as const;

const cublasSymbols = {
  cublasCreate_v2: { parameters: [B], result: I },
  cublasDestroy_v2: { parameters: [P], result: I },
  cublasGetVersion_v2: { parameters: [P, B], result: I },
  cublasSetMathMode: { parameters: [P, I], result: I },
  // (handle, transa, transb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc), column-major.
  cublasSgemm_v2: { parameters: [P, I, I, I, I, I, B, P, I, P, I, B, P, I], result: I },
} as const;

const cudnnSymbols = {
  cudnnGetVersion: { parameters: [], result: U },
  cudnnGetErrorString: { parameters: [I], result: P },
  cudnnCreate: { parameters: [B], result: I },
  cudnnDestroy: { parameters: [P], result: I },
  cudnnCreateTensorDescriptor: { parameters: [B], result: I },
  cudnnDestroyTensorDescriptor: { parameters: [P], result: I },
  // (desc, format, dataType, n, c, h, w)
  cudnnSetTensor4dDescriptor: { parameters: [P, I, I, I, I, I, I], result: I },
  cudnnCreateFilterDescriptor: { parameters: [B], result: I },
  cudnnDestroyFilterDescriptor: { parameters: [P], result: I },
  // (desc, dataType, format, k, c, h, w)
  cudnnSetFilter4dDescriptor: { parameters: [P, I, I, I, I, I, I], result: I },
  cudnnCreateConvolutionDescriptor: { parameters: [B], result: I },
  cudnnDestroyConvolutionDescriptor: { parameters: [P], result: I },
  // (desc, pad_h, pad_w, u, v, dilation_h, dilation_w, mode, computeType)
  cudnnSetConvolution2dDescriptor: { parameters: [P, I, I, I, I, I, I, I, I], result: I },
  cudnnSetConvolutionMathType: { parameters: [P, I], result: I },
  // (handle, xDesc, wDesc, convDesc, yDesc, requested, *returned, *perf)
  cudnnGetConvolutionForwardAlgorithm_v7: { parameters: [P, P, P, P, P, I, B, B], result: I },
  // (handle, wDesc, dyDesc, convDesc, dxDesc, requested, *returned, *perf)
  cudnnGetConvolutionBackwardDataAlgorithm_v7: {
    parameters: [P, P, P, P, P, I, B, B],
    result: I,
  },
  // (handle, *alpha, xDesc, x, wDesc, w, convDesc, algo, workspace, wsBytes, *beta, yDesc, y)
  cudnnConvolutionForward: { parameters: [P, B, P, P, P, P, P, I, P, U, B, P, P], result: I },
  // (handle, *alpha, wDesc, w, dyDesc, dy, convDesc, algo, workspace, wsBytes, *beta, dxDesc, dx)
  cudnnConvolutionBackwardData: {
    parameters: [P, B, P, P, P, P, P, I, P, U, B, P, P],
    result: I,
  },
} as const;

/** The opened libraries' symbols. */
export interface CudaApi {
  readonly rt: Deno.DynamicLibrary<typeof cudartSymbols>["symbols"];
  readonly cu: Deno.DynamicLibrary<typeof driverSymbols>["symbols"];
  readonly nvrtc: Deno.DynamicLibrary<typeof nvrtcSymbols>["symbols"];
  readonly cublas: Deno.DynamicLibrary<typeof cublasSymbols>["symbols"];
  readonly cudnn: Deno.DynamicLibrary<typeof cudnnSymbols>["symbols"];
  /** Closes every library (after everything allocated through them is freed). */
  close(): void;
}

/** Opens the libraries (preloads first, so their dependencies resolve by soname). */
export function openCuda(libs: CudaLibraries): CudaApi {
  const opened: { close(): void }[] = [];
  const open = <S extends Deno.ForeignLibraryInterface>(path: string, symbols: S) => {
    const lib = Deno.dlopen(path, symbols);
    opened.push(lib);
    return lib.symbols;
  };
  try {
    // The runtime and the driver first: without a driver this fails before the large libraries load.
    const rt = open(libs.cudart, cudartSymbols);
    const cu = open(libs.driver, driverSymbols);
    const count = new Int32Array(1);
    if (rt.cudaGetDeviceCount(count) !== 0 || count[0] < 1) {
      throw new CudaError("cudaGetDeviceCount", 100, "no CUDA device visible");
    }
    // Best effort: a sub-library that cannot load here (e.g. one needing another CUDA major's
    // NVRTC) is left to its parent library, which loads it on demand or does without it.
    for (const path of libs.preload) {
      try {
        open(path, {});
      } catch {
        // not needed to start; the parent library reports it if it is
      }
    }
    return {
      rt,
      cu,
      nvrtc: open(libs.nvrtc, nvrtcSymbols),
      cublas: open(libs.cublas, cublasSymbols),
      cudnn: open(libs.cudnn, cudnnSymbols),
      close: () => opened.reverse().forEach((l) => l.close()),
    };
  } catch (e) {
    opened.reverse().forEach((l) => l.close());
    throw e;
  }
}

/** cudaMemcpyKind values. */
export const MEMCPY = { hostToDevice: 1, deviceToHost: 2, deviceToDevice: 3 } as const;

/** A C string from a `const char*` (or `fallback` for null). */
export function cString(ptr: Deno.PointerValue, fallback = ""): string {
  return ptr === null ? fallback : new Deno.UnsafePointerView(ptr).getCString();
}

/** NUL-terminated bytes of `s` for a `const char*` parameter. */
export function cStringBytes(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Calls `f` with an 8-byte out-cell and returns the pointer it wrote (handles, allocations). */
export function outPointer(
  f: (cell: BigUint64Array<ArrayBuffer>) => number,
  check: (code: number) => void,
): Deno.PointerValue {
  const cell = new BigUint64Array(1);
  check(f(cell));
  return Deno.UnsafePointer.create(cell[0]);
}

/** Calls `f` with a 4-byte out-cell and returns the int it wrote. */
export function outInt(
  f: (cell: Int32Array<ArrayBuffer>) => number,
  check: (code: number) => void,
): number {
  const cell = new Int32Array(1);
  check(f(cell));
  return cell[0];
}

/** A CUDA, NVRTC, cuBLAS or cuDNN call that failed: which function and the library's message. */
export class CudaError extends Error {
  /** @param call the C function @param code its status @param detail the library's text for it */
  constructor(readonly call: string, readonly code: number, detail: string) {
    super(`${call} failed with status ${code}${detail ? ` (${detail})` : ""}`);
    this.name = "CudaError";
  }
}

/** Uses `value` so that it stays reachable until this point (memory a C call read through a raw address). */
export function keepAlive(value: unknown): void {
  if (value === keepAlive) throw new Error("unreachable");
}
