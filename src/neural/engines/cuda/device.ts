/**
 * One CUDA device as the cuda engine uses it: device memory ({@link DeviceArray}, counted for the
 * peak), copies, the NVRTC-compiled kernels (kernels.ts) and their launches, deterministic
 * reductions into device scalars, and the cuBLAS and cuDNN handles. Everything runs on the legacy
 * default stream, so every operation is ordered after the previous one and a device-to-host copy
 * waits for all of them.
 */
import {
  cStringBytes,
  type CudaApi,
  CudaError,
  MEMCPY,
  outInt,
  outPointer,
  type StatusChecks,
  statusChecks,
} from "./ffi.ts";
import {
  KERNEL_NAMES,
  KERNEL_SIGNATURES,
  type KernelArgs,
  type KernelName,
  type ParamType,
  REDUCE_BLOCKS,
  THREADS,
} from "./kernels.ts";
import { compileKernels } from "./nvrtc.ts";

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

/** cublasOperation_t values. */
export const BLAS_OP = { n: 0, t: 1 } as const;

/** One cublasSgemm (column-major): C ← alpha · op(A) · op(B) + beta · C, C m × n, k inner. */
export interface Gemm {
  readonly transA: boolean;
  readonly transB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly alpha: number;
  readonly a: DeviceArray;
  readonly lda: number;
  readonly b: DeviceArray;
  readonly ldb: number;
  readonly beta: number;
  readonly c: DeviceArray;
  readonly ldc: number;
}

/** How a device is driven. */
export interface DeviceOptions {
  /**
   * Synchronize and check after every launch and library call (STYLEPIPE_CUDA_SYNC=1), so that an
   * asynchronous fault is reported by the call that caused it.
   */
  readonly sync?: boolean;
}

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

/** Most arguments a kernel of kernels.ts takes. */
const MAX_KERNEL_ARGS = Math.max(
  ...Object.values(KERNEL_SIGNATURES).map((sig) => Object.keys(sig).length),
);

/** Freed arrays kept per length for reuse. */
const POOL_PER_LENGTH = 8;

/** cudaDeviceAttr values. */
const ATTR = { ccMajor: 75, ccMinor: 76 } as const;

/** An opened, initialized device with compiled kernels. */
export class CudaDevice {
  readonly api: CudaApi;
  readonly info: DeviceInfo;
  /** Whether every launch and library call is followed by a synchronize and check. */
  readonly sync: boolean;
  /** Status checks naming each library's errors. */
  readonly check: StatusChecks;
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
   * Picks device 0 and compiles the kernels; throws CudaError on failure, after releasing what it
   * created (the libraries stay loaded for the process).
   * @param api the opened libraries (ffi.ts openCuda, or the emulated device)
   */
  constructor(api: CudaApi, options: DeviceOptions = {}) {
    this.api = api;
    this.sync = options.sync ?? false;
    const check = this.check = statusChecks(api);
    const { rt, cu, nvrtc, cublas, cudnn } = this.api;
    const created: (() => void)[] = [];
    try {
      const count = outInt((c) => rt.cudaGetDeviceCount(c), check.rt("cudaGetDeviceCount"));
      if (count < 1) throw new CudaError("cudaGetDeviceCount", 0, "no CUDA device visible");
      check.rt("cudaSetDevice")(rt.cudaSetDevice(0));
      check.rt("cudaFree")(rt.cudaFree(null)); // creates the primary context, current on this thread
      check.cu("cuInit")(cu.cuInit(0));
      const attr = (a: number) =>
        outInt((c) => rt.cudaDeviceGetAttribute(c, a, 0), check.rt("cudaDeviceGetAttribute"));
      const [major, minor] = [attr(ATTR.ccMajor), attr(ATTR.ccMinor)];
      const nameBytes = new Uint8Array(256);
      check.cu("cuDeviceGetName")(cu.cuDeviceGetName(nameBytes, 256, 0));
      const version = (v: number) => `${Math.floor(v / 1000)}.${(v % 1000) / 10}`;
      const nvrtcMajor = new Int32Array(1), nvrtcMinor = new Int32Array(1);
      check.nvrtc("nvrtcVersion")(nvrtc.nvrtcVersion(nvrtcMajor, nvrtcMinor));
      this.cublas = outPointer((c) => cublas.cublasCreate_v2(c), check.blas("cublasCreate_v2"));
      created.push(() => cublas.cublasDestroy_v2(this.cublas));
      const blasVersion = outInt(
        (c) => cublas.cublasGetVersion_v2(this.cublas, c),
        check.blas("cublasGetVersion_v2"),
      );
      this.cudnn = outPointer((c) => cudnn.cudnnCreate(c), check.dnn("cudnnCreate"));
      created.push(() => cudnn.cudnnDestroy(this.cudnn));
      const dnnVersion = Number(cudnn.cudnnGetVersion());
      const dotted = (v: number) =>
        `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;
      this.info = {
        name: new TextDecoder().decode(nameBytes.subarray(0, nameBytes.indexOf(0))),
        computeCapability: `${major}.${minor}`,
        driverVersion: version(
          outInt((c) => rt.cudaDriverGetVersion(c), check.rt("cudaDriverGetVersion")),
        ),
        runtimeVersion: version(
          outInt((c) => rt.cudaRuntimeGetVersion(c), check.rt("cudaRuntimeGetVersion")),
        ),
        cublasVersion: dotted(blasVersion),
        cudnnVersion: dotted(dnnVersion),
        nvrtcVersion: `${nvrtcMajor[0]}.${nvrtcMinor[0]}`,
      };
      const cubin = compileKernels(this.api.nvrtc, `sm_${major}${minor}`);
      this.#module = outPointer(
        (c) => cu.cuModuleLoadData(c, cubin),
        check.cu("cuModuleLoadData"),
      );
      created.push(() => cu.cuModuleUnload(this.#module));
      for (const name of KERNEL_NAMES) {
        const f = outPointer(
          (c) => cu.cuModuleGetFunction(c, this.#module, cStringBytes(name)),
          check.cu(`cuModuleGetFunction(${name})`),
        );
        this.#kernels.set(name, f);
      }
      this.#partial = this.#rawAlloc(REDUCE_BLOCKS * 8);
    } catch (e) {
      created.reverse().forEach((release) => release());
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
    this.check.rt("cudaFree")(this.api.rt.cudaFree(ptr));
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
    this.check.rt("cudaMemcpy")(
      this.api.rt.cudaMemcpyHtoD(a.ptr, src, BigInt(a.bytes), MEMCPY.hostToDevice),
    );
  }

  /** Host copy of `a` (waits for the device). */
  read(a: DeviceArray): Float32Array {
    const out = new Float32Array(a.length);
    this.check.rt("cudaMemcpy")(
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
    this.check.rt("cudaMemcpy")(
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
    this.check.rt("cudaMemcpy")(
      this.api.rt.cudaMemcpyDtoD(dst.ptr, src.ptr, BigInt(src.bytes), MEMCPY.deviceToDevice),
    );
  }

  /** a ← 0 */
  zero(a: DeviceArray): void {
    this.check.rt("cudaMemset")(this.api.rt.cudaMemset(a.ptr, 0, BigInt(a.bytes)));
  }

  /**
   * Launches kernel `name` over `n` elements (grid-stride; or `blocks` blocks when given), its
   * arguments encoded by their C types in KERNEL_SIGNATURES (a missing or mistyped one throws).
   */
  launch<K extends KernelName>(name: K, n: number, args: KernelArgs<K>, blocks?: number): void {
    const grid = blocks ?? Math.max(1, Math.min(Math.ceil(n / THREADS), 4096));
    const params = Object.entries(KERNEL_SIGNATURES[name]) as [string, ParamType][];
    // cuLaunchKernel copies the arguments when it is called: one set of cells serves every launch.
    encodeKernelArgs(name, params, args as Record<string, unknown>, this.#argCells);
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
      this.#argPointers[params.length],
      null,
    );
    if (code !== 0) this.check.cu(`cuLaunchKernel(${name})`)(code);
    this.afterCall(name);
  }

  /** cublasSgemm_v2 with the fields of `g`. */
  gemm(g: Gemm): void {
    const call = `cublasSgemm_v2(${g.transA ? "T" : "N"}${
      g.transB ? "T" : "N"
    } ${g.m}×${g.n}×${g.k})`;
    this.check.blas(call)(
      this.api.cublas.cublasSgemm_v2(
        this.cublas,
        g.transA ? BLAS_OP.t : BLAS_OP.n,
        g.transB ? BLAS_OP.t : BLAS_OP.n,
        g.m,
        g.n,
        g.k,
        new Float32Array([g.alpha]),
        g.a.ptr,
        g.lda,
        g.b.ptr,
        g.ldb,
        new Float32Array([g.beta]),
        g.c.ptr,
        g.ldc,
      ),
    );
    this.afterCall(call);
  }

  /**
   * Waits for the device and checks for a fault (cudaDeviceSynchronize, then cudaGetLastError),
   * naming `after`: what ran last.
   */
  synchronize(after: string): void {
    this.check.rt(`cudaDeviceSynchronize after ${after}`)(this.api.rt.cudaDeviceSynchronize());
    this.check.rt(`cudaGetLastError after ${after}`)(this.api.rt.cudaGetLastError());
  }

  /** In sync mode, {@link synchronize} after the call `what`. */
  afterCall(what: string): void {
    if (this.sync) this.synchronize(what);
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
    const partial = this.#partial;
    if (kind === "tv") {
      const [h, w] = hw!;
      this.launch("partial_tv", 0, { x: a, h, w, partial }, REDUCE_BLOCKS);
    } else {
      const name = kind === "dot" ? "partial_dot" : "partial_sqdiff";
      this.launch(name, 0, { a, b: b!, n: a.length, partial }, REDUCE_BLOCKS);
    }
    this.launch("reduce_final", 0, { partial, count: REDUCE_BLOCKS, out, slot, scale }, 1);
  }

  /**
   * Releases the handles and the kernels (the engine frees its arrays first); the libraries stay
   * loaded for the process (ffi.ts openLibrary).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.trim();
    this.freeBytes(this.#partial, REDUCE_BLOCKS * 8);
    this.api.cudnn.cudnnDestroy(this.cudnn);
    this.api.cublas.cublasDestroy_v2(this.cublas);
    this.api.cu.cuModuleUnload(this.#module);
  }

  #rawAlloc(bytes: number): Deno.PointerValue {
    const ptr = outPointer(
      (c) => this.api.rt.cudaMalloc(c, BigInt(bytes)),
      this.check.rt(`cudaMalloc(${bytes} bytes)`),
    );
    this.#liveBytes += bytes;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    return ptr;
  }
}

/** Writes `args` into `cells` (8 bytes each) in the order and C types of `params`; throws on a mismatch. */
function encodeKernelArgs(
  name: string,
  params: readonly [string, ParamType][],
  args: Record<string, unknown>,
  cells: DataView,
): void {
  const extra = Object.keys(args).filter((k) => !params.some(([p]) => p === k));
  if (extra.length > 0) throw new TypeError(`${name}: no parameter ${extra.join(", ")}`);
  params.forEach(([param, type], k) => {
    const at = k * 8;
    const value = args[param];
    if (type.endsWith("*")) {
      if (value !== null && typeof value !== "object") {
        throw new TypeError(`${name}: ${param} (${type}) needs a device pointer, got ${value}`);
      }
      const ptr = value !== null && "ptr" in value
        ? (value as { ptr: Deno.PointerValue }).ptr
        : value as Deno.PointerValue;
      cells.setBigUint64(at, BigInt(Deno.UnsafePointer.value(ptr)), true);
      return;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(`${name}: ${param} (${type}) needs a finite number, got ${value}`);
    }
    if ((type === "int" || type === "long") && !Number.isInteger(value)) {
      throw new TypeError(`${name}: ${param} (${type}) needs an integer, got ${value}`);
    }
    if (type === "int" && (value < -(2 ** 31) || value >= 2 ** 31)) {
      throw new RangeError(`${name}: ${param} = ${value} does not fit an int`);
    }
    if (type === "int") cells.setInt32(at, value, true);
    else if (type === "long") cells.setBigInt64(at, BigInt(value), true);
    else if (type === "float") cells.setFloat32(at, value, true);
    else cells.setFloat64(at, value, true);
  });
}
