/**
 * {@link VectorOps} in device memory: the optimizer's vectors never leave the GPU. Element-wise ops
 * equal hostVectorOps' bit for bit (double arithmetic, one rounding; kernels.ts); dot products sum
 * in double in a fixed order (deterministic, not the host's order). `dots` reads all its values
 * back in one copy and `lbfgsDirection` keeps the two-loop recursion's scalars on the device.
 */
import type { VectorOps } from "../engine.ts";
import type { CudaDevice, DeviceArray } from "./device.ts";

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
  const n = (x: DeviceArray) => ({ l: x.length });
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
      const slots = scalarSlots(k + 1); // α₀…α_{k−1}, then β
      const q = make(g.length);
      device.launch("v_scale", g.length, [n(g), { d: -1 }, { p: g.ptr }, { p: q.ptr }]);
      const axpyDev = (ia: number, sa: number, ib: number, sb: number, x: DeviceArray) =>
        device.launch("v_axpy_dev", q.length, [
          n(q),
          { p: slots },
          { i: ia },
          { d: sa },
          { i: ib },
          { d: sb },
          { p: x.ptr },
          { p: q.ptr },
          { p: q.ptr },
        ]);
      for (let i = k - 1; i >= 0; i--) {
        device.reduce("dot", slots, i, rho[i], s[i], q); // αᵢ = ρᵢ·sᵢᵀq
        axpyDev(i, -1, -1, 0, y[i]); // q −= αᵢ yᵢ
      }
      device.launch("v_scale", q.length, [n(q), { d: gamma }, { p: q.ptr }, { p: q.ptr }]);
      for (let i = 0; i < k; i++) {
        device.reduce("dot", slots, k, rho[i], y[i], q); // β = ρᵢ·yᵢᵀr
        axpyDev(i, 1, k, -1, s[i]); // r += (αᵢ − β) sᵢ
      }
      return q;
    },
    axpy(a, x, y) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_axpy", x.length, [n(x), { d: a }, { p: x.ptr }, { p: y.ptr }, {
        p: out.ptr,
      }]);
      return out;
    },
    scale(a, x) {
      check(x);
      const out = make(x.length);
      device.launch("v_scale", x.length, [n(x), { d: a }, { p: x.ptr }, { p: out.ptr }]);
      return out;
    },
    sub(x, y) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_sub", x.length, [n(x), { p: x.ptr }, { p: y.ptr }, { p: out.ptr }]);
      return out;
    },
    mul(x, y) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_mul", x.length, [n(x), { p: x.ptr }, { p: y.ptr }, { p: out.ptr }]);
      return out;
    },
    sqrt(x) {
      check(x);
      const out = make(x.length);
      device.launch("v_sqrt", x.length, [n(x), { p: x.ptr }, { p: out.ptr }]);
      return out;
    },
    div(x, y, eps) {
      check(x, y);
      const out = make(x.length);
      device.launch("v_div", x.length, [n(x), { p: x.ptr }, { p: y.ptr }, { d: eps }, {
        p: out.ptr,
      }]);
      return out;
    },
    clamp(x, lo, hi) {
      check(x);
      const out = make(x.length);
      device.launch("v_clamp", x.length, [n(x), { p: x.ptr }, { d: lo }, { d: hi }, {
        p: out.ptr,
      }]);
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
    },
  };
}
