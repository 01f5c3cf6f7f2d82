/**
 * {@link VectorOps} in device memory: the optimizer's vectors never leave the GPU. Element-wise ops
 * equal hostVectorOps' bit for bit (double arithmetic, one rounding; kernels.ts); dot products sum
 * in double in a fixed order (deterministic, not the host's order). `dots` reads all its values
 * back in one copy and `lbfgsDirection` keeps the two-loop recursion's scalars on the device, one
 * fused launch per step (kernels.ts `lbfgs_step`): 2k + 4 launches for k pairs.
 */
import type { VectorOps } from "../engine.ts";
import type { CudaDevice, DeviceArray } from "./device.ts";
import { REDUCE_BLOCKS } from "./kernels.ts";

/** Vector ops over `device`, and `adopt`, which makes an array the engine made one of its vectors. */
export interface CudaVectors {
  readonly ops: VectorOps<DeviceArray>;
  /** Hands `a` (e.g. an evaluation's gradient) to the ops: the caller disposes it through them. */
  adopt(a: DeviceArray): DeviceArray;
  /** Whether `a` is a live vector of these ops. */
  owns(a: DeviceArray): boolean;
  /** Frees the ops' own device scalars (at engine dispose). */
  release(): void;
}

/** Vector ops over `device`; vectors they did not create (or adopt) are refused. */
export function cudaVectorOps(device: CudaDevice): CudaVectors {
  const live = new Set<DeviceArray>();
  /** Device doubles for read-back and the recursion's scalars, grown on demand. */
  let scalars = { ptr: null as Deno.PointerValue, count: 0 };
  /** Two buffers of first-pass partial sums for the fused recursion (one read, one written). */
  let partials: [Deno.PointerValue, Deno.PointerValue] | undefined;
  const scalarSlots = (count: number) => {
    if (scalars.count < count) {
      if (scalars.count > 0) device.freeBytes(scalars.ptr, scalars.count * 8);
      const grown = Math.max(count, 2 * scalars.count, 16);
      scalars = { ptr: device.allocBytes(grown * 8), count: grown };
    }
    return scalars.ptr;
  };
  const make = (length: number) => {
    const a = device.alloc(length);
    live.add(a);
    return a;
  };
  const check = (...vs: DeviceArray[]) => {
    for (const v of vs) {
      if (!live.has(v)) {
        throw new RangeError("cuda vector ops: a vector that is disposed or foreign");
      }
    }
    for (const v of vs) {
      if (v.length !== vs[0].length) {
        throw new RangeError(`cuda vector ops: lengths differ (${vs[0].length} vs ${v.length})`);
      }
    }
  };
  const ops: VectorOps<DeviceArray> = {
    async dot(a, b) {
      return (await ops.dots!([[a, b]]))[0];
    },
    dots(pairs) {
      if (pairs.length === 0) return Promise.resolve([]);
      const out = scalarSlots(pairs.length);
      pairs.forEach(([a, b], k) => {
        check(a, b);
        device.reduce("dot", out, k, 1, a, b);
      });
      return Promise.resolve([...device.readDoubles(out, pairs.length)]);
    },
    lbfgsDirection(g, s, y, rho, gamma) {
      check(g, ...s, ...y);
      const k = s.length;
      const alphas = scalarSlots(k); // αᵢ, written by the steps of the first loop
      const q = make(g.length);
      device.launch("v_scale", g.length, { n: g.length, a: -1, x: g, out: q });
      if (k === 0) return q;
      partials ??= [device.allocBytes(REDUCE_BLOCKS * 8), device.allocBytes(REDUCE_BLOCKS * 8)];
      let [pin, pout] = partials;
      const firstDot = (a: DeviceArray) =>
        device.launch("partial_dot", 0, { a, b: q, n: q.length, partial: pin }, REDUCE_BLOCKS);
      /** One fused step: v = ρ·(the pending dot); q += (sa·v + sb·α_ib)·x; partials of next·q. */
      const step = (
        r: number,
        slot: number,
        sa: number,
        ib: number,
        x: DeviceArray,
        next: DeviceArray | undefined,
      ) => {
        device.launch("lbfgs_step", 0, {
          n: q.length,
          pin,
          count: REDUCE_BLOCKS,
          rho: r,
          slots: alphas,
          slot,
          sa,
          ib,
          sb: 1,
          x,
          q,
          next: next ?? null,
          pout,
        }, REDUCE_BLOCKS);
        [pin, pout] = [pout, pin];
      };
      firstDot(s[k - 1]);
      for (let i = k - 1; i >= 0; i--) step(rho[i], i, -1, -1, y[i], s[i - 1]); // αᵢ; q −= αᵢyᵢ
      device.launch("v_scale", q.length, { n: q.length, a: gamma, x: q, out: q });
      firstDot(y[0]);
      for (let i = 0; i < k; i++) step(rho[i], -1, -1, i, s[i], y[i + 1]); // r += (αᵢ − βᵢ)sᵢ
      return q;
    },
    axpy(a, x, y) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_axpy", x.length, { n: x.length, a, x, y, out });
      return out;
    },
    scale(a, x) {
      check(x);
      const out = make(x.length);
      device.launch("v_scale", x.length, { n: x.length, a, x, out });
      return out;
    },
    sub(x, y) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_sub", x.length, { n: x.length, x, y, out });
      return out;
    },
    mul(x, y) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_mul", x.length, { n: x.length, x, y, out });
      return out;
    },
    sqrt(x) {
      check(x);
      const out = make(x.length);
      device.launch("v_sqrt", x.length, { n: x.length, x, out });
      return out;
    },
    div(x, y, eps) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_div", x.length, { n: x.length, x, y, eps, out });
      return out;
    },
    clamp(x, lo, hi) {
      check(x);
      const out = make(x.length);
      device.launch("v_clamp", x.length, { n: x.length, x, lo, hi, out });
      return out;
    },
    clone(x) {
      check(x);
      const out = make(x.length);
      device.copy(out, x);
      return out;
    },
    zerosLike(x) {
      const out = make(x.length);
      device.zero(out);
      return out;
    },
    dispose(x) {
      if (live.delete(x)) device.free(x);
    },
    toArray(x) {
      check(x);
      return Promise.resolve(device.read(x));
    },
    fromArray(a) {
      const out = make(a.length);
      device.write(out, a);
      return out;
    },
  };
  return {
    ops,
    adopt: (a) => (live.add(a), a),
    owns: (a) => live.has(a),
    release() {
      if (scalars.count > 0) device.freeBytes(scalars.ptr, scalars.count * 8);
      scalars = { ptr: null, count: 0 };
      for (const p of partials ?? []) device.freeBytes(p, REDUCE_BLOCKS * 8);
      partials = undefined;
    },
  };
}
