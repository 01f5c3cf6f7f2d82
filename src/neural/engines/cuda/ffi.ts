/**
 * Deno FFI bindings of the C functions the cuda engine calls: the CUDA runtime (memory, copies,
 * device attributes), the driver (modules and kernel launches of NVRTC's output), NVRTC, cuBLAS and
 * cuDNN 9. Signatures as in the CUDA 12/13 and cuDNN 9 headers; out-parameters are `buffer`s.
 * {@link openCuda} opens them from the paths libraries.ts found.
 */
import { StylepipeError } from "../../../util/errors.ts";
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
  cudaGetErrorName: { parameters: [I], result: P },
  cudaGetLastError: { parameters: [], result: I },
} as const;

/** The driver functions the engine calls (exported for the binding test). */
export const driverSymbols = {
  cuInit: { parameters: ["u32"], result: I },
  // (CUresult, const char** name)
  cuGetErrorName: { parameters: [I, B], result: I },
  cuDeviceGetName: { parameters: [B, I, I], result: I },
  cuModuleLoadData: { parameters: [B, B], result: I },
  cuModuleGetFunction: { parameters: [B, P, B], result: I },
  cuModuleUnload: { parameters: [P], result: I },
  cuLaunchKernel: {
    parameters: [P, "u32", "u32", "u32", "u32", "u32", "u32", "u32", P, B, P],
    result: I,
  },
} as const;

/** NVRTC's functions the engine calls. */
export const nvrtcSymbols = {
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

/** cuBLAS's functions the engine calls. */
export const cublasSymbols = {
  cublasCreate_v2: { parameters: [B], result: I },
  cublasGetStatusString: { parameters: [I], result: P },
  cublasDestroy_v2: { parameters: [P], result: I },
  cublasGetVersion_v2: { parameters: [P, B], result: I },
  cublasSetMathMode: { parameters: [P, I], result: I },
  // (handle, transa, transb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc), column-major.
  cublasSgemm_v2: { parameters: [P, I, I, I, I, I, B, P, I, P, I, B, P, I], result: I },
} as const;

/** cuDNN's functions the engine calls. */
export const cudnnSymbols = {
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
  // (handle, *count)
  cudnnGetConvolutionForwardAlgorithmMaxCount: { parameters: [P, B], result: I },
  cudnnGetConvolutionBackwardDataAlgorithmMaxCount: { parameters: [P, B], result: I },
  // (handle, xDesc, wDesc, convDesc, yDesc, algo, *bytes)
  cudnnGetConvolutionForwardWorkspaceSize: { parameters: [P, P, P, P, P, I, B], result: I },
  // (handle, wDesc, dyDesc, convDesc, dxDesc, algo, *bytes)
  cudnnGetConvolutionBackwardDataWorkspaceSize: {
    parameters: [P, P, P, P, P, I, B],
    result: I,
  },
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

/** The opened libraries' symbols (opened once per process: see {@link openCuda}). */
export interface CudaApi {
  readonly rt: Deno.DynamicLibrary<typeof cudartSymbols>["symbols"];
  readonly cu: Deno.DynamicLibrary<typeof driverSymbols>["symbols"];
  readonly nvrtc: Deno.DynamicLibrary<typeof nvrtcSymbols>["symbols"];
  readonly cublas: Deno.DynamicLibrary<typeof cublasSymbols>["symbols"];
  readonly cudnn: Deno.DynamicLibrary<typeof cudnnSymbols>["symbols"];
}

/** The libraries the engine opens, by role (gpu-smoke loads and names them one at a time). */
export const LIBRARY_SYMBOLS = {
  cudart: cudartSymbols,
  driver: driverSymbols,
  nvrtc: nvrtcSymbols,
  cublas: cublasSymbols,
  cudnn: cudnnSymbols,
} as const;

/** One of {@link LIBRARY_SYMBOLS}' roles. */
export type LibraryRole = keyof typeof LIBRARY_SYMBOLS;

/**
 * Libraries opened in this process, by path. They are never closed: unloading and reloading
 * cuDNN/cuBLAS/the runtime in one process is a known cause of crashes, and a device re-opened
 * after an engine's dispose needs them again.
 */
const loaded = new Map<string, { symbols: unknown }>();

/** Opens `path` with `symbols` once per process (the same symbols on every later call). */
export function openLibrary<S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] {
  const key = `${path}\0${Object.keys(symbols).join(",")}`;
  let lib = loaded.get(key);
  if (!lib) {
    lib = Deno.dlopen(path, symbols);
    loaded.set(key, lib);
  }
  return lib.symbols as Deno.DynamicLibrary<S>["symbols"];
}

/**
 * Opens the libraries (once per process; preloads first, so their dependencies resolve by soname)
 * and checks that the runtime sees a device: a failing cudaGetDeviceCount reports its own status.
 */
export function openCuda(libs: CudaLibraries): CudaApi {
  // The runtime first: without a driver or GPU it says so (with its status) before the rest loads.
  const rt = openLibrary(libs.cudart, cudartSymbols);
  const count = new Int32Array(1);
  const status = rt.cudaGetDeviceCount(count);
  if (status !== 0) {
    throw new CudaError("cudaGetDeviceCount", status, cString(rt.cudaGetErrorName(status)), {
      detail: cString(rt.cudaGetErrorString(status)),
    });
  }
  if (count[0] < 1) throw new CudaError("cudaGetDeviceCount", 0, "no CUDA device visible");
  const cu = openLibrary(libs.driver, driverSymbols);
  // Best effort: a sub-library that cannot load here (e.g. one needing another CUDA major's
  // NVRTC) is left to its parent library, which loads it on demand or does without it.
  for (const path of libs.preload) {
    try {
      openLibrary(path, {});
    } catch {
      // not needed to start; the parent library reports it if it is
    }
  }
  return {
    rt,
    cu,
    nvrtc: openLibrary(libs.nvrtc, nvrtcSymbols),
    cublas: openLibrary(libs.cublas, cublasSymbols),
    cudnn: openLibrary(libs.cudnn, cudnnSymbols),
  };
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

/**
 * A CUDA, NVRTC, cuBLAS or cuDNN call that failed: which function, its status and the library's
 * name for it (`cudaErrorIllegalAddress`, `CUBLAS_STATUS_EXECUTION_FAILED`, …).
 */
export class CudaError extends StylepipeError {
  /**
   * @param call the C function (and what it was for) @param code its status
   * @param errorName the library's name for the status @param more the library's longer text
   */
  constructor(
    readonly call: string,
    readonly code: number,
    readonly errorName: string,
    more: { detail?: string } = {},
  ) {
    super(
      `${call} failed: ${errorName || "status"} (${code})${more.detail ? `: ${more.detail}` : ""}`,
    );
  }
}

/** Throws CudaError for a non-zero status, naming it through each library's own function. */
export interface StatusChecks {
  rt(call: string): (code: number) => void;
  cu(call: string): (code: number) => void;
  nvrtc(call: string): (code: number) => void;
  blas(call: string): (code: number) => void;
  dnn(call: string): (code: number) => void;
}

/** The status checks of `api`. */
export function statusChecks(api: CudaApi): StatusChecks {
  const checker =
    (name: (code: number) => string, detail?: (code: number) => string) =>
    (call: string) =>
    (code: number) => {
      if (code !== 0) throw new CudaError(call, code, name(code), { detail: detail?.(code) });
    };
  return {
    rt: checker(
      (c) => cString(api.rt.cudaGetErrorName(c)),
      (c) => cString(api.rt.cudaGetErrorString(c)),
    ),
    cu: checker((c) => {
      const cell = new BigUint64Array(1);
      if (api.cu.cuGetErrorName(c, cell) !== 0 || cell[0] === 0n) return "CUDA_ERROR_UNKNOWN";
      return cString(Deno.UnsafePointer.create(cell[0]));
    }),
    nvrtc: checker((c) => cString(api.nvrtc.nvrtcGetErrorString(c))),
    blas: checker((c) => cString(api.cublas.cublasGetStatusString(c))),
    dnn: checker((c) => cString(api.cudnn.cudnnGetErrorString(c))),
  };
}

/** Uses `value` so that it stays reachable until this point (memory a C call read through a raw address). */
export function keepAlive(value: unknown): void {
  if (value === keepAlive) throw new Error("unreachable");
}
