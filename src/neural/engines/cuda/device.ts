/**
 * One CUDA device as the cuda engine uses it: device memory ({@link DeviceArray}, counted for the
 * peak), copies, the NVRTC-compiled kernels (kernels.ts) and their launches, deterministic
 * reductions into device scalars, and the cuBLAS and cuDNN handles. Everything runs on the legacy
 * default stream, so every operation is ordered after the previous one and a device-to-host copy
 * waits for all of them.
 */
import {
  cString,
  cStringBytes,
  type CudaApi,
  CudaError,
  MEMCPY,
  openCuda,
  outInt,
  outPointer,
} from "./ffi.ts";
import { KERNEL_NAMES, type KernelName, REDUCE_BLOCKS, THREADS } from "./kernels.ts";
import { compileKernels, nvrtcCheck } from "./nvrtc.ts";
import type { CudaLibraries } from "./libraries.ts";

export { CudaError };

/** float32 values in device memory. */
export class DeviceArray {
  /** @param ptr device address @param length float32 count */
  constructor(readonly ptr: Deno.PointerValue, readonly length: number) {}
  /** Size in bytes. */
  get bytes(): number {
    return this.length * 4;
  }
}

/** A kernel argument: a device pointer, int32, int64, float32 or float64. */
export type KernelArg =
  | { readonly p: Deno.PointerValue }
  | { readonly i: number }
  | { readonly l: number }
  | { readonly f: number }
  | { readonly d: number };

/** What describe() and provenance report about the GPU and its libraries. */
export interface DeviceInfo {
  readonly name: string;
  readonly computeCapability: string;
  readonly driverVersion: string;
  readonly runtimeVersion: string;
  readonly cublasVersion: string;
  readonly cudnnVersion: string;
  readonly nvrtcVersion: string;
}

/** Opens the libraries at `libs` and the GPU through them. */
export function openDevice(libs: CudaLibraries): CudaDevice {
  return new CudaDevice(openCuda(libs));
}

/** Most arguments a kernel of kernels.ts takes. */
const MAX_KERNEL_ARGS = 16;

/** Freed arrays kept per length for reuse. */
const POOL_PER_LENGTH = 8;

/** cudaDeviceAttr values. */
const ATTR = { ccMajor: 75, ccMinor: 76 } as const;

/** An opened, initialized device with compiled kernels. */
export class CudaDevice {
  readonly api: CudaApi;
  readonly info: DeviceInfo;
  /** cublasHandle_t */
  readonly cublas: Deno.PointerValue;
  /** cudnnHandle_t */
  readonly cudnn: Deno.PointerValue;
  readonly #module: Deno.PointerValue;
  readonly #kernels = new Map<KernelName, Deno.PointerValue>();
  /** Partial sums of the first reduction pass (REDUCE_BLOCKS doubles). */
  readonly #partial: Deno.PointerValue;
  readonly #pool = new Map<number, DeviceArray[]>();
  /** Kernel argument values, 8 bytes each, and per argument count the array of their addresses. */
  readonly #argCells = new DataView(new ArrayBuffer(MAX_KERNEL_ARGS * 8));
  readonly #argPointers: BigUint64Array<ArrayBuffer>[] = (() => {
    const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#argCells.buffer)));
    return Array.from(
      { length: MAX_KERNEL_ARGS + 1 },
      (_, n) => BigUint64Array.from({ length: n }, (_, k) => base + BigInt(8 * k)),
    );
  })();
  #liveBytes = 0;
  #peakBytes = 0;
  #closed = false;

  /**
   * Picks device 0 and compiles the kernels; throws CudaError on failure (and closes `api`).
   * @param api the opened libraries ({@link openDevice} opens them from discovered paths)
   */
  constructor(api: CudaApi) {
    this.api = api;
    try {
      const { rt, cu, nvrtc, cublas, cudnn } = this.api;
      const count = outInt((c) => rt.cudaGetDeviceCount(c), this.#rt("cudaGetDeviceCount"));
      if (count < 1) throw new CudaError("cudaGetDeviceCount", 100, "no CUDA device");
      this.#rt("cudaSetDevice")(rt.cudaSetDevice(0));
      this.#rt("cudaFree")(rt.cudaFree(null)); // creates the primary context, current on this thread
      this.#cu("cuInit")(cu.cuInit(0));
      const attr = (a: number) =>
        outInt((c) => rt.cudaDeviceGetAttribute(c, a, 0), this.#rt("cudaDeviceGetAttribute"));
      const [major, minor] = [attr(ATTR.ccMajor), attr(ATTR.ccMinor)];
      const nameBytes = new Uint8Array(256);
      this.#cu("cuDeviceGetName")(cu.cuDeviceGetName(nameBytes, 256, 0));
      const version = (v: number) => `${Math.floor(v / 1000)}.${(v % 1000) / 10}`;
      const nvrtcMajor = new Int32Array(1), nvrtcMinor = new Int32Array(1);
      nvrtcCheck(nvrtc, "nvrtcVersion")(nvrtc.nvrtcVersion(nvrtcMajor, nvrtcMinor));
      this.cublas = outPointer((c) => cublas.cublasCreate_v2(c), this.#blas("cublasCreate_v2"));
      const blasVersion = outInt(
        (c) => cublas.cublasGetVersion_v2(this.cublas, c),
        this.#blas("cublasGetVersion_v2"),
      );
      this.cudnn = outPointer((c) => cudnn.cudnnCreate(c), this.#dnn("cudnnCreate"));
      const dnnVersion = Number(cudnn.cudnnGetVersion());
      this.info = {
        name: new TextDecoder().decode(nameBytes.subarray(0, nameBytes.indexOf(0))),
        computeCapability: `${major}.${minor}`,
        driverVersion: version(
          outInt((c) => rt.cudaDriverGetVersion(c), this.#rt("cudaDriverGetVersion")),
        ),
        runtimeVersion: version(
          outInt((c) => rt.cudaRuntimeGetVersion(c), this.#rt("cudaRuntimeGetVersion")),
        ),
        cublasVersion: `${Math.floor(blasVersion / 10000)}.${Math.floor(blasVersion / 100) % 100}.${
          blasVersion % 100
        }`,
        cudnnVersion: `${Math.floor(dnnVersion / 10000)}.${Math.floor(dnnVersion / 100) % 100}.${
          dnnVersion % 100
        }`,
        nvrtcVersion: `${nvrtcMajor[0]}.${nvrtcMinor[0]}`,
      };
      this.#module = this.#compile(`sm_${major}${minor}`);
      for (const name of KERNEL_NAMES) {
        const f = outPointer(
          (c) => cu.cuModuleGetFunction(c, this.#module, cStringBytes(name)),
          this.#cu("cuModuleGetFunction"),
        );
        this.#kernels.set(name, f);
      }
      this.#partial = this.#rawAlloc(REDUCE_BLOCKS * 8);
    } catch (e) {
      this.api.close();
      throw e;
    }
  }

  /** Device memory the engine holds now and at most so far (bytes; cuBLAS/cuDNN internals excluded). */
  memory(): { live: number; peak: number } {
    return { live: this.#liveBytes, peak: this.#peakBytes };
  }

  /**
   * `length` float32 values of uninitialized device memory. Freed arrays are kept per length and
   * reused ({@link POOL_PER_LENGTH}): cudaFree waits for the whole device, and the optimizer frees
   * image-sized vectors every iteration.
   */
  alloc(length: number): DeviceArray {
    const reused = this.#pool.get(length)?.pop();
    if (reused) return reused;
    return new DeviceArray(this.#rawAlloc(Math.max(1, length) * 4), length);
  }

  /** Raw device bytes (counted). */
  allocBytes(bytes: number): Deno.PointerValue {
    return this.#rawAlloc(bytes);
  }

  /** Frees `bytes` at `ptr` (from {@link allocBytes}). */
  freeBytes(ptr: Deno.PointerValue, bytes: number): void {
    this.#rt("cudaFree")(this.api.rt.cudaFree(ptr));
    this.#liveBytes -= bytes;
  }

  /** Frees an array (into the pool when it has room). */
  free(a: DeviceArray): void {
    const free = this.#pool.get(a.length) ?? [];
    this.#pool.set(a.length, free);
    if (free.length < POOL_PER_LENGTH) free.push(a);
    else this.freeBytes(a.ptr, Math.max(1, a.length) * 4);
  }

  /** Returns the pooled arrays to the device. */
  trim(): void {
    for (const arrays of this.#pool.values()) {
      for (const a of arrays.splice(0)) this.freeBytes(a.ptr, Math.max(1, a.length) * 4);
    }
  }

  /** A device copy of host values. */
  upload(values: Float32Array): DeviceArray {
    const a = this.alloc(values.length);
    this.write(a, values);
    return a;
  }

  /** Copies host values into `a` (lengths must match). */
  write(a: DeviceArray, values: Float32Array): void {
    if (values.length !== a.length) throw new RangeError(`write: ${values.length} vs ${a.length}`);
    const src = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.#rt("cudaMemcpy")(
      this.api.rt.cudaMemcpyHtoD(a.ptr, src, BigInt(a.bytes), MEMCPY.hostToDevice),
    );
  }

  /** Host copy of `a` (waits for the device). */
  read(a: DeviceArray): Float32Array {
    const out = new Float32Array(a.length);
    this.#rt("cudaMemcpy")(
      this.api.rt.cudaMemcpyDtoH(
        new Uint8Array(out.buffer),
        a.ptr,
        BigInt(a.bytes),
        MEMCPY.deviceToHost,
      ),
    );
    return out;
  }

  /** `count` doubles from device address `ptr` (waits for the device). */
  readDoubles(ptr: Deno.PointerValue, count: number): Float64Array {
    const out = new Float64Array(count);
    this.#rt("cudaMemcpy")(
      this.api.rt.cudaMemcpyDtoH(
        new Uint8Array(out.buffer),
        ptr,
        BigInt(count * 8),
        MEMCPY.deviceToHost,
      ),
    );
    return out;
  }

  /** dst ← src (same length). */
  copy(dst: DeviceArray, src: DeviceArray): void {
    this.#rt("cudaMemcpy")(
      this.api.rt.cudaMemcpyDtoD(dst.ptr, src.ptr, BigInt(src.bytes), MEMCPY.deviceToDevice),
    );
  }

  /** a ← 0 */
  zero(a: DeviceArray): void {
    this.#rt("cudaMemset")(this.api.rt.cudaMemset(a.ptr, 0, BigInt(a.bytes)));
  }

  /** Launches a grid-stride kernel over `n` elements (or `blocks` blocks when given). */
  launch(name: KernelName, n: number, args: readonly KernelArg[], blocks?: number): void {
    const grid = blocks ?? Math.max(1, Math.min(Math.ceil(n / THREADS), 4096));
    // cuLaunchKernel copies the arguments when it is called: one set of cells serves every launch.
    const view = this.#argCells;
    args.forEach((arg, k) => {
      const at = k * 8;
      if ("p" in arg) view.setBigUint64(at, BigInt(Deno.UnsafePointer.value(arg.p)), true);
      else if ("i" in arg) view.setInt32(at, arg.i, true);
      else if ("l" in arg) view.setBigInt64(at, BigInt(arg.l), true);
      else if ("f" in arg) view.setFloat32(at, arg.f, true);
      else view.setFloat64(at, arg.d, true);
    });
    const code = this.api.cu.cuLaunchKernel(
      this.#kernels.get(name)!,
      grid,
      1,
      1,
      THREADS,
      1,
      1,
      0,
      null,
      this.#argPointers[args.length],
      null,
    );
    if (code !== 0) this.#cu(`cuLaunchKernel(${name})`)(code);
  }

  /**
   * A deterministic reduction of `kind` into the double at `out[slot]`, times `scale`:
   * `dot` Σ aᵢbᵢ, `sqdiff` Σ (aᵢ − bᵢ)², `tv` the total variation of the h × w HWC image a.
   */
  reduce(
    kind: "dot" | "sqdiff" | "tv",
    out: Deno.PointerValue,
    slot: number,
    scale: number,
    a: DeviceArray,
    b?: DeviceArray,
    hw?: readonly [number, number],
  ): void {
    const partial = { p: this.#partial };
    if (kind === "tv") {
      const [h, w] = hw!;
      this.launch("partial_tv", 0, [{ p: a.ptr }, { i: h }, { i: w }, partial], REDUCE_BLOCKS);
    } else {
      const name = kind === "dot" ? "partial_dot" : "partial_sqdiff";
      this.launch(name, 0, [{ p: a.ptr }, { p: b!.ptr }, { l: a.length }, partial], REDUCE_BLOCKS);
    }
    this.launch(
      "reduce_final",
      0,
      [partial, { i: REDUCE_BLOCKS }, { p: out }, { i: slot }, { d: scale }],
      1,
    );
  }

  /** Releases the handles, the kernels and every library (the engine frees its arrays first). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.trim();
    this.freeBytes(this.#partial, REDUCE_BLOCKS * 8);
    this.api.cudnn.cudnnDestroy(this.cudnn);
    this.api.cublas.cublasDestroy_v2(this.cublas);
    this.api.cu.cuModuleUnload(this.#module);
    this.api.close();
  }

  #rawAlloc(bytes: number): Deno.PointerValue {
    const ptr = outPointer(
      (c) => this.api.rt.cudaMalloc(c, BigInt(bytes)),
      this.#rt(`cudaMalloc(${bytes} bytes)`),
    );
    this.#liveBytes += bytes;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    return ptr;
  }

  /** NVRTC → CUBIN for `arch` → a loaded module. */
  #compile(arch: string): Deno.PointerValue {
    const cubin = compileKernels(this.api.nvrtc, arch);
    return outPointer(
      (c) => this.api.cu.cuModuleLoadData(c, cubin),
      this.#cu("cuModuleLoadData"),
    );
  }

  #rt(call: string): (code: number) => void {
    return (code) => {
      if (code !== 0) {
        throw new CudaError(call, code, cString(this.api.rt.cudaGetErrorString(code)));
      }
    };
  }
  #cu(call: string): (code: number) => void {
    return (code) => {
      if (code !== 0) throw new CudaError(call, code, "CUDA driver error");
    };
  }
  #blas(call: string): (code: number) => void {
    return (code) => {
      if (code !== 0) throw new CudaError(call, code, "cuBLAS status");
    };
  }
  #dnn(call: string): (code: number) => void {
    return (code) => {
      if (code !== 0) {
        throw new CudaError(call, code, cString(this.api.cudnn.cudnnGetErrorString(code)));
      }
    };
  }

  /** A checker for cuBLAS calls (throws CudaError naming `call`). */
  blasCheck(call: string): (code: number) => void {
    return this.#blas(call);
  }

  /** A checker for cuDNN calls (throws CudaError naming `call`). */
  dnnCheck(call: string): (code: number) => void {
    return this.#dnn(call);
  }
}
