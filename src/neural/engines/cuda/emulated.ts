/**
 * The emulated device: a host emulation of the C functions the cuda engine calls (cudart, driver,
 * NVRTC, cuBLAS, cuDNN). It tests the engine's own logic without a GPU (buffer routing, layouts,
 * cuBLAS transposes and leading dimensions, loss coefficients, the backward walk, the vector ops),
 * serves as gpu-smoke's host oracle for the kernels and GEMMs on a real GPU, and runs the GPU
 * session end to end here (STYLEPIPE_CUDA_EMULATE=1).
 * Device memory is host memory at made-up addresses, each allocation followed by a guard zone: a
 * kernel that writes into it sets the sticky cudaErrorIllegalAddress (700) that the next
 * synchronize, copy or launch returns, as a faulting kernel does on a GPU. Each launch decodes its
 * argument cells by KERNEL_SIGNATURES and runs a JavaScript restatement of the kernel
 * (pad_backward and pool_backward in scatter form, unlike the CUDA C's gather).
 * It proves nothing about the real libraries' ABI or the CUDA C itself: that is gpu-smoke's job.
 * Faults, for testing the diagnosis: `kernel-oob` (relu writes one element past its output),
 * `library-load` (libcudnn fails to load), `wrong-result` (gram_diff's gradient factor is 2 %
 * off).
 */
import type { CudaApi, LibraryRole } from "./ffi.ts";
import { KERNEL_SIGNATURES, type KernelName } from "./kernels.ts";

type Arg = number | bigint | Deno.PointerValue;

/** A fault the emulated device injects. */
export type EmulatedFault = "kernel-oob" | "library-load" | "wrong-result";

/** Every {@link EmulatedFault}. */
export const EMULATED_FAULTS: readonly EmulatedFault[] = [
  "kernel-oob",
  "library-load",
  "wrong-result",
];

/** The sonames the emulated libraries stand for. */
export const EMULATED_SONAMES: Record<LibraryRole, string> = {
  cudart: "libcudart.so.13",
  driver: "libcuda.so.1",
  nvrtc: "libnvrtc.so.13",
  cublas: "libcublas.so.13",
  cudnn: "libcudnn.so.9",
};

/** Bytes after every allocation that no kernel may write. */
const GUARD_BYTES = 64;
const GUARD_VALUE = 0xa5;
/** cudaErrorIllegalAddress / CUDA_ERROR_ILLEGAL_ADDRESS. */
const ILLEGAL_ADDRESS = 700;

/** An emulated device. */
export interface EmulatedCuda {
  readonly api: CudaApi;
  /** How many allocations are live. */
  liveAllocations(): number;
  /** "Loads" one library (throws as dlopen does under the `library-load` fault for cudnn). */
  load(role: LibraryRole): void;
}

/** An emulated device, with `fault` injected. */
export function emulatedCuda(fault?: EmulatedFault): EmulatedCuda {
  const memory = new Map<bigint, { buffer: ArrayBuffer; size: number }>();
  let next = 0x10000000n;
  let sticky = 0;
  const addr = (p: Deno.PointerValue) => BigInt(Deno.UnsafePointer.value(p));
  const region = (p: Deno.PointerValue): ArrayBuffer => {
    const block = memory.get(addr(p));
    if (!block) throw new Error(`emulated device: no allocation at 0x${addr(p).toString(16)}`);
    return block.buffer;
  };
  /** Views span the guard zone too, so that a write past the end lands there (and is caught). */
  const f32 = (p: Deno.PointerValue) => new Float32Array(region(p));
  const f64 = (p: Deno.PointerValue) => new Float64Array(region(p));
  const bytes = (p: Deno.PointerValue) => new Uint8Array(region(p));
  const guardBroken = (p: Deno.PointerValue) => {
    const block = memory.get(addr(p));
    if (!block) return false;
    return new Uint8Array(block.buffer, block.size).some((b) => b !== GUARD_VALUE);
  };
  /** Zeroes the allocation of doubles at `p` (not its guard). */
  const zeroDoubles = (p: Deno.PointerValue) => {
    const out = f64(p);
    out.fill(0, 0, memory.get(addr(p))!.size / 8);
    return out;
  };
  const names = new Map<string, Uint8Array<ArrayBuffer>>();
  /** A C string that stays alive (the emulated libraries' static strings). */
  const cstr = (s: string): Deno.PointerValue => {
    let b = names.get(s);
    if (!b) names.set(s, b = new TextEncoder().encode(`${s}\0`) as Uint8Array<ArrayBuffer>);
    return Deno.UnsafePointer.of(b);
  };
  const handles = new Map<bigint, Record<string, number>>();
  const newHandle = (cell: BigUint64Array, value: Record<string, number> = {}) => {
    const h = next;
    next += 0x1000n;
    handles.set(h, value);
    cell[0] = h;
    return 0;
  };
  const handle = (p: Deno.PointerValue) => handles.get(addr(p))!;
  const kernelNames = new Map<bigint, string>();

  /** A runtime call: the sticky error if one is set, else `f`'s status. */
  const call = (f: () => number) => (sticky !== 0 ? sticky : f());
  const runtimeNames: Record<number, string> = {
    0: "cudaSuccess",
    1: "cudaErrorInvalidValue",
    2: "cudaErrorMemoryAllocation",
    [ILLEGAL_ADDRESS]: "cudaErrorIllegalAddress",
  };
  const rt = {
    cudaGetDeviceCount: (c: Int32Array) => ((c[0] = 1), 0),
    cudaSetDevice: () => 0,
    cudaFree: (p: Deno.PointerValue) =>
      call(() => (p === null ? 0 : (memory.delete(addr(p)) ? 0 : 1))),
    cudaMalloc: (cell: BigUint64Array, size: bigint) =>
      call(() => {
        const a = next;
        next += (size + 0xfffn) & ~0xfffn;
        next += 0x1000n;
        const buffer = new ArrayBuffer(Number(size) + GUARD_BYTES);
        new Uint8Array(buffer, Number(size)).fill(GUARD_VALUE);
        memory.set(a, { buffer, size: Number(size) });
        cell[0] = a;
        return 0;
      }),
    cudaMemset: (p: Deno.PointerValue, v: number, n: bigint) =>
      call(() => (bytes(p).fill(v, 0, Number(n)), 0)),
    cudaMemcpyHtoD: (dst: Deno.PointerValue, src: Uint8Array, n: bigint) =>
      call(() => (bytes(dst).set(src.subarray(0, Number(n))), 0)),
    cudaMemcpyDtoH: (dst: Uint8Array, src: Deno.PointerValue, n: bigint) =>
      call(() => (dst.set(bytes(src).subarray(0, Number(n))), 0)),
    cudaMemcpyDtoD: (dst: Deno.PointerValue, src: Deno.PointerValue, n: bigint) =>
      call(() => (bytes(dst).set(bytes(src).subarray(0, Number(n))), 0)),
    cudaDeviceSynchronize: () => call(() => 0),
    cudaGetLastError: () => sticky,
    cudaDeviceGetAttribute: (c: Int32Array, attr: number) => ((c[0] = attr === 75 ? 9 : 0), 0),
    cudaRuntimeGetVersion: (c: Int32Array) => ((c[0] = 13000), 0),
    cudaDriverGetVersion: (c: Int32Array) => ((c[0] = 13000), 0),
    cudaGetErrorString: (code: number) =>
      cstr(code === ILLEGAL_ADDRESS ? "an illegal memory access was encountered" : "error"),
    cudaGetErrorName: (code: number) => cstr(runtimeNames[code] ?? "cudaErrorUnknown"),
  };

  const cu = {
    cuInit: () => 0,
    cuGetErrorName: (code: number, cell: BigUint64Array) => {
      const name = code === ILLEGAL_ADDRESS ? "CUDA_ERROR_ILLEGAL_ADDRESS" : "CUDA_ERROR_UNKNOWN";
      cell[0] = BigInt(Deno.UnsafePointer.value(cstr(name)));
      return 0;
    },
    cuDeviceGetName: (b: Uint8Array) => (b.set(new TextEncoder().encode("emulated\0")), 0),
    cuModuleLoadData: (cell: BigUint64Array) => newHandle(cell),
    cuModuleGetFunction: (cell: BigUint64Array, _m: Arg, name: Uint8Array) => {
      newHandle(cell);
      kernelNames.set(cell[0], new TextDecoder().decode(name.subarray(0, name.indexOf(0))));
      return 0;
    },
    cuModuleUnload: () => 0,
    cuLaunchKernel: (f: Deno.PointerValue, ...rest: unknown[]) => {
      if (sticky !== 0) return sticky;
      const name = kernelNames.get(addr(f))! as KernelName;
      const params = rest[8] as BigUint64Array;
      const types = Object.values(KERNEL_SIGNATURES[name]) as string[];
      if (params.length !== types.length) {
        throw new Error(`${name}: ${params.length} arguments, its signature has ${types.length}`);
      }
      const args = types.map((type, k) => {
        const view = new Deno.UnsafePointerView(Deno.UnsafePointer.create(params[k])!);
        if (type.endsWith("*")) {
          const v = view.getBigUint64();
          return v === 0n ? null : Deno.UnsafePointer.create(v);
        }
        if (type === "int") return view.getInt32();
        if (type === "long") return Number(view.getBigInt64());
        if (type === "float") return view.getFloat32();
        return view.getFloat64();
      });
      KERNELS[name](args);
      // The fault surfaces later, as on a GPU: the launch itself succeeds.
      if (args.some((a, k) => types[k].endsWith("*") && a !== null && guardBroken(a as never))) {
        sticky = ILLEGAL_ADDRESS;
      }
      return 0;
    },
  };

  // deno-lint-ignore no-explicit-any
  const P = (a: any) => a as Deno.PointerValue;
  // deno-lint-ignore no-explicit-any
  const N = (a: any) => a as number;
  const fr = Math.fround;
  const KERNELS: Record<KernelName, (a: Arg[]) => void> = {
    preprocess([x, out, hw, mb, mg, mr]) {
      const X = f32(P(x)), O = f32(P(out)), n = N(hw);
      for (let p = 0; p < n; p++) {
        O[p] = X[3 * p + 2] - N(mb);
        O[n + p] = X[3 * p + 1] - N(mg);
        O[2 * n + p] = X[3 * p] - N(mr);
      }
    },
    image_grad([g, x, out, h, w, tvw]) {
      const G = g === null ? undefined : f32(P(g)), X = f32(P(x)), O = f32(P(out));
      const H = N(h), W = N(w), hw = H * W;
      for (let k = 0; k < 3 * hw; k++) {
        const p = Math.floor(k / 3), c = k - 3 * p, i = Math.floor(p / W), j = p - i * W;
        const v = X[k];
        let tv = 0;
        if (i > 0) tv += 2 * (v - X[k - 3 * W]);
        if (i < H - 1) tv -= 2 * (X[k + 3 * W] - v);
        if (j > 0) tv += 2 * (v - X[k - 3]);
        if (j < W - 1) tv -= 2 * (X[k + 3] - v);
        O[k] = (G ? G[(2 - c) * hw + p] : 0) + N(tvw) * tv;
      }
    },
    pad_forward([i, o, c, Hh, Ww, reflect]) {
      const I = f32(P(i)), O = f32(P(o)), H = N(Hh), W = N(Ww);
      const src = (p: number, n: number) =>
        p === 0 ? (N(reflect) ? 1 : 0) : p === n + 1 ? (N(reflect) ? n - 2 : n - 1) : p - 1;
      for (let ch = 0; ch < N(c); ch++) {
        for (let y = 0; y < H + 2; y++) {
          for (let x = 0; x < W + 2; x++) {
            O[(ch * (H + 2) + y) * (W + 2) + x] = I[(ch * H + src(y, H)) * W + src(x, W)];
          }
        }
      }
    },
    pad_backward([go, gi, c, Hh, Ww, reflect]) {
      // Scatter form (each padded position adds onto its source): the transpose of pad_forward.
      const GO = f32(P(go)), GI = f32(P(gi)), H = N(Hh), W = N(Ww);
      const src = (p: number, n: number) =>
        p === 0 ? (N(reflect) ? 1 : 0) : p === n + 1 ? (N(reflect) ? n - 2 : n - 1) : p - 1;
      GI.fill(0, 0, N(c) * H * W);
      for (let ch = 0; ch < N(c); ch++) {
        for (let y = 0; y < H + 2; y++) {
          for (let x = 0; x < W + 2; x++) {
            GI[(ch * H + src(y, H)) * W + src(x, W)] += GO[(ch * (H + 2) + y) * (W + 2) + x];
          }
        }
      }
    },
    add_bias([y, b, c, hw]) {
      const Y = f32(P(y)), B = f32(P(b));
      for (let k = 0; k < N(c) * N(hw); k++) Y[k] += B[Math.floor(k / N(hw))];
    },
    relu([i, o, n]) {
      const I = f32(P(i)), O = f32(P(o));
      const end = N(n) + (fault === "kernel-oob" ? 1 : 0);
      for (let k = 0; k < end; k++) O[k] = Math.max(I[k] ?? 0, 0);
    },
    relu_grad([g, y, n]) {
      const G = f32(P(g)), Y = f32(P(y));
      for (let k = 0; k < N(n); k++) if (!(Y[k] > 0)) G[k] = 0;
    },
    pool_forward([i, o, c, Hh, Ww, isMax]) {
      const I = f32(P(i)), O = f32(P(o)), H = N(Hh), W = N(Ww);
      const h = Math.floor(H / 2), w = Math.floor(W / 2);
      for (let ch = 0; ch < N(c); ch++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const b = ch * H * W + 2 * y * W + 2 * x;
            const v = [I[b], I[b + 1], I[b + W], I[b + W + 1]];
            O[ch * h * w + y * w + x] = N(isMax)
              ? Math.max(...v)
              : 0.25 * (v[0] + v[1] + v[2] + v[3]);
          }
        }
      }
    },
    pool_backward([go, i, gi, c, Hh, Ww, isMax]) {
      const GO = f32(P(go)), I = f32(P(i)), GI = f32(P(gi)), H = N(Hh), W = N(Ww);
      const h = Math.floor(H / 2), w = Math.floor(W / 2);
      GI.fill(0, 0, N(c) * H * W);
      for (let ch = 0; ch < N(c); ch++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const g = GO[ch * h * w + y * w + x];
            const b = ch * H * W + 2 * y * W + 2 * x;
            const at = [b, b + 1, b + W, b + W + 1];
            if (!N(isMax)) {
              for (const a of at) GI[a] = fr(0.25 * g);
              continue;
            }
            let arg = 0;
            for (let k = 1; k < 4; k++) if (I[at[k]] > I[at[arg]]) arg = k;
            GI[at[arg]] = g;
          }
        }
      }
    },
    partial_dot([a, b, n, partial]) {
      const A = f32(P(a)), B = f32(P(b)), out = zeroDoubles(P(partial));
      let s = 0;
      for (let k = 0; k < N(n); k++) s += A[k] * B[k];
      out[0] = s;
    },
    partial_sqdiff([a, b, n, partial]) {
      const A = f32(P(a)), B = f32(P(b)), out = zeroDoubles(P(partial));
      let s = 0;
      for (let k = 0; k < N(n); k++) s += (A[k] - B[k]) ** 2;
      out[0] = s;
    },
    partial_tv([x, h, w, partial]) {
      const X = f32(P(x)), H = N(h), W = N(w), out = zeroDoubles(P(partial));
      let s = 0;
      for (let k = 0; k < 3 * H * W; k++) {
        const p = Math.floor(k / 3), i = Math.floor(p / W), j = p - i * W;
        if (i < H - 1) s += (X[k + 3 * W] - X[k]) ** 2;
        if (j < W - 1) s += (X[k + 3] - X[k]) ** 2;
      }
      out[0] = s;
    },
    reduce_final([partial, count, out, slot, scale]) {
      const Pt = f64(P(partial));
      let s = 0;
      for (let k = 0; k < N(count); k++) s += Pt[k];
      f64(P(out))[N(slot)] = N(scale) * s;
    },
    content_grad([g, f, p, n, coef]) {
      const G = f32(P(g)), F = f32(P(f)), T = f32(P(p));
      for (let k = 0; k < N(n); k++) G[k] += fr(N(coef) * (F[k] - T[k]));
    },
    gram_diff([gram, target, d, c, coefficient]) {
      const G = f32(P(gram)), A = f32(P(target)), D = f32(P(d)), C = N(c);
      const coef = () => N(coefficient) * (fault === "wrong-result" ? 1.02 : 1);
      for (let i = 0; i < C; i++) {
        for (let j = 0; j < C; j++) {
          D[i * C + j] = coef() * (G[i * C + j] - 0.5 * (A[i * C + j] + A[j * C + i]));
        }
      }
    },
    mask_rows([f, m, out, c, hw]) {
      const F = f32(P(f)), M = f32(P(m)), O = f32(P(out));
      for (let k = 0; k < N(c) * N(hw); k++) O[k] = F[k] * M[k % N(hw)];
    },
    mask_rows_acc([g, t, m, c, hw]) {
      const G = f32(P(g)), T = f32(P(t)), M = f32(P(m));
      for (let k = 0; k < N(c) * N(hw); k++) G[k] += fr(T[k] * M[k % N(hw)]);
    },
    v_axpy([n, a, x, y, out]) {
      const X = f32(P(x)), Y = f32(P(y)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = N(a) * X[k] + Y[k];
    },
    v_scale([n, a, x, out]) {
      const X = f32(P(x)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = N(a) * X[k];
    },
    v_sub([n, x, y, out]) {
      const X = f32(P(x)), Y = f32(P(y)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = X[k] - Y[k];
    },
    v_mul([n, x, y, out]) {
      const X = f32(P(x)), Y = f32(P(y)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = X[k] * Y[k];
    },
    v_sqrt([n, x, out]) {
      const X = f32(P(x)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = Math.sqrt(X[k]);
    },
    v_div([n, x, y, eps, out]) {
      const X = f32(P(x)), Y = f32(P(y)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = X[k] / (Y[k] + N(eps));
    },
    v_clamp([n, x, lo, hi, out]) {
      const X = f32(P(x)), O = f32(P(out));
      for (let k = 0; k < N(n); k++) O[k] = Math.min(N(hi), Math.max(N(lo), X[k]));
    },
    lbfgs_step([n, pin, count, rho, slots, slot, sa, ib, sb, x, q, next, pout]) {
      const Pin = f64(P(pin)), S = f64(P(slots));
      let sum = 0;
      for (let k = 0; k < N(count); k++) sum += Pin[k];
      const v = N(rho) * sum;
      if (N(slot) >= 0) S[N(slot)] = v;
      const a = N(sa) * v + (N(ib) >= 0 ? N(sb) * S[N(ib)] : 0);
      const X = f32(P(x)), Q = f32(P(q));
      let dot = 0;
      for (let k = 0; k < N(n); k++) {
        Q[k] = a * X[k] + Q[k];
        if (next !== null) dot += f32(P(next))[k] * Q[k];
      }
      if (next !== null) {
        zeroDoubles(P(pout))[0] = dot;
      }
    },
  };

  const nvrtc = {
    nvrtcVersion: (a: Int32Array, b: Int32Array) => ((a[0] = 13), (b[0] = 0), 0),
    nvrtcCreateProgram: (cell: BigUint64Array) => newHandle(cell),
    nvrtcCompileProgram: () => 0,
    nvrtcGetProgramLogSize: (_p: Arg, s: BigUint64Array) => ((s[0] = 1n), 0),
    nvrtcGetProgramLog: () => 0,
    nvrtcGetCUBINSize: (_p: Arg, s: BigUint64Array) => ((s[0] = 16n), 0),
    nvrtcGetCUBIN: () => 0,
    nvrtcDestroyProgram: () => 0,
    nvrtcGetErrorString: (code: number) => cstr(code === 0 ? "NVRTC_SUCCESS" : "NVRTC_ERROR"),
  };

  const cublas = {
    cublasCreate_v2: (cell: BigUint64Array) => newHandle(cell),
    cublasDestroy_v2: () => 0,
    cublasGetVersion_v2: (_h: Arg, c: Int32Array) => ((c[0] = 130100), 0),
    cublasGetStatusString: (code: number) =>
      cstr(code === 0 ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_EXECUTION_FAILED"),
    cublasSetMathMode: () => 0,
    cublasSgemm_v2(
      _h: Arg,
      ta: number,
      tb: number,
      m: number,
      n: number,
      k: number,
      alpha: Float32Array,
      a: Deno.PointerValue,
      lda: number,
      b: Deno.PointerValue,
      ldb: number,
      beta: Float32Array,
      c: Deno.PointerValue,
      ldc: number,
    ) {
      const A = f32(a), B = f32(b), C = f32(c);
      // op(A)[i, l] = A[i·sai + l·sal], op(B)[l, j] = B[l·sbl + j·sbj] (column-major).
      const [sai, sal] = ta ? [lda, 1] : [1, lda];
      const [sbl, sbj] = tb ? [ldb, 1] : [1, ldb];
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < m; i++) {
          let s = 0;
          for (let l = 0; l < k; l++) s += A[i * sai + l * sal] * B[l * sbl + j * sbj];
          const prior = beta[0] === 0 ? 0 : beta[0] * C[i + j * ldc];
          C[i + j * ldc] = alpha[0] * s + prior;
        }
      }
      return 0;
    },
  };

  /** A two-row ranking: a non-deterministic TF32 algorithm first, then a deterministic FMA one. */
  const perfEntry = (perf: Uint8Array, count: Int32Array) => {
    const v = new DataView(perf.buffer, perf.byteOffset);
    const rows = [[1, 0, 0, 1], [0, 0, 1, 3]].slice(0, perf.byteLength / 48);
    rows.forEach(([algo, status, det, math], k) => {
      v.setInt32(48 * k, algo, true);
      v.setInt32(48 * k + 4, status, true);
      v.setBigUint64(48 * k + 16, 0n, true);
      v.setInt32(48 * k + 24, det, true);
      v.setInt32(48 * k + 28, math, true);
    });
    count[0] = rows.length;
    return 0;
  };
  /**
   * Cross-correlation with zero padding `pad` (the descriptor's):
   * y[k, i, j] = Σ w[k,c,dy,dx] x[c, i+dy−pad, j+dx−pad].
   */
  const conv = (
    xd: Record<string, number>,
    yd: Record<string, number>,
    wd: Record<string, number>,
    pad: number,
    Wt: Float32Array,
    direction: { forward: Float32Array } | { backward: Float32Array },
    acc: Float64Array,
  ) => {
    const { c: C, h: H, w: W } = xd, K = wd.k, { h: Ho, w: Wo } = yd;
    const forward = "forward" in direction;
    const src = "forward" in direction ? direction.forward : direction.backward;
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < C; c++) {
        for (let dy = 0; dy < 3; dy++) {
          for (let dx = 0; dx < 3; dx++) {
            const wv = Wt[((k * C + c) * 3 + dy) * 3 + dx];
            const j0 = Math.max(0, pad - dx), j1 = Math.min(Wo, W + pad - dx);
            for (let i = 0; i < Ho; i++) {
              const si = i + dy - pad;
              if (si < 0 || si >= H) continue;
              const yRow = k * Ho * Wo + i * Wo, xRow = c * H * W + si * W + dx - pad;
              if (forward) {
                for (let j = j0; j < j1; j++) acc[yRow + j] += wv * src[xRow + j];
              } else {
                for (let j = j0; j < j1; j++) acc[xRow + j] += wv * src[yRow + j];
              }
            }
          }
        }
      }
    }
  };
  const cudnn = {
    cudnnGetVersion: () => 91400n,
    cudnnGetErrorString: (code: number) =>
      cstr(code === 0 ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_EXECUTION_FAILED"),
    cudnnGetConvolutionForwardAlgorithmMaxCount: (_h: Arg, c: Int32Array) => ((c[0] = 8), 0),
    cudnnGetConvolutionBackwardDataAlgorithmMaxCount: (_h: Arg, c: Int32Array) => ((c[0] = 6), 0),
    cudnnGetConvolutionForwardWorkspaceSize: (
      ...a: unknown[]
    ) => (((a[6] as BigUint64Array)[0] = 0n), 0),
    cudnnGetConvolutionBackwardDataWorkspaceSize: (
      ...a: unknown[]
    ) => (((a[6] as BigUint64Array)[0] = 0n), 0),
    cudnnCreate: (cell: BigUint64Array) => newHandle(cell),
    cudnnDestroy: () => 0,
    cudnnCreateTensorDescriptor: (cell: BigUint64Array) => newHandle(cell),
    cudnnDestroyTensorDescriptor: () => 0,
    cudnnSetTensor4dDescriptor: (d: Deno.PointerValue, ..._r: number[]) => {
      const [, , , c, h, w] = _r; // (format, dataType, n, c, h, w)
      Object.assign(handle(d), { c, h, w });
      return 0;
    },
    cudnnCreateFilterDescriptor: (cell: BigUint64Array) => newHandle(cell),
    cudnnDestroyFilterDescriptor: () => 0,
    cudnnSetFilter4dDescriptor: (
      d: Deno.PointerValue,
      _t: number,
      _f: number,
      k: number,
      c: number,
    ) => {
      Object.assign(handle(d), { k, c });
      return 0;
    },
    cudnnCreateConvolutionDescriptor: (cell: BigUint64Array) => newHandle(cell),
    cudnnDestroyConvolutionDescriptor: () => 0,
    cudnnSetConvolution2dDescriptor: (d: Deno.PointerValue, padH: number, padW: number) => {
      if (padH !== padW) throw new Error("emulated cuDNN: padH ≠ padW");
      Object.assign(handle(d), { pad: padH });
      return 0;
    },
    cudnnSetConvolutionMathType: () => 0,
    cudnnGetConvolutionForwardAlgorithm_v7: (...a: unknown[]) =>
      perfEntry(a[7] as Uint8Array, a[6] as Int32Array),
    cudnnGetConvolutionBackwardDataAlgorithm_v7: (...a: unknown[]) =>
      perfEntry(a[7] as Uint8Array, a[6] as Int32Array),
    cudnnConvolutionForward(...a: unknown[]) {
      const [xd, x, wd, w, cd, , , , , yd, y] = a.slice(2) as Deno.PointerValue[];
      const Y = f32(y), X = f32(x), Wt = f32(w);
      const yDesc = handle(yd);
      Y.fill(0, 0, yDesc.c * yDesc.h * yDesc.w);
      const acc = new Float64Array(yDesc.c * yDesc.h * yDesc.w);
      const pad = handle(cd).pad;
      conv(handle(xd), yDesc, handle(wd), pad, Wt, { forward: X }, acc);
      Y.set(acc);
      return 0;
    },
    cudnnConvolutionBackwardData(...a: unknown[]) {
      const [wd, w, dyd, dy, cd, , , , , dxd, dx] = a.slice(2) as Deno.PointerValue[];
      const DY = f32(dy), DX = f32(dx), Wt = f32(w);
      const dxDesc = handle(dxd);
      const acc = new Float64Array(dxDesc.c * dxDesc.h * dxDesc.w);
      const pad = handle(cd).pad;
      conv(dxDesc, handle(dyd), handle(wd), pad, Wt, { backward: DY }, acc);
      DX.set(acc);
      return 0;
    },
  };

  const api = { rt, cu, nvrtc, cublas, cudnn } as unknown as CudaApi;
  return {
    api,
    liveAllocations: () => memory.size,
    load(role) {
      if (fault === "library-load" && role === "cudnn") {
        throw new Error(
          `Could not open library: ${EMULATED_SONAMES.cudnn}: cannot open shared object file: ` +
            `No such file or directory (emulated fault library-load)`,
        );
      }
    },
  };
}
