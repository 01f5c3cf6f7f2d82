import assert from "node:assert/strict";
import { hostVectorOps as ops } from "../../../src/neural/engines/host_vector_ops.ts";

const a = Float32Array.from([1, -2, 4]);
const b = Float32Array.from([0.5, 3, -1]);

Deno.test("hostVectorOps computes each operation elementwise into a new array", async () => {
  assert.equal(await ops.dot(a, b), 0.5 - 6 - 4);
  assert.deepEqual(ops.axpy(2, a, b), Float32Array.from([2.5, -1, 7]));
  assert.deepEqual(ops.scale(-1, a), Float32Array.from([-1, 2, -4]));
  assert.deepEqual(ops.sub(a, b), Float32Array.from([0.5, -5, 5]));
  assert.deepEqual(ops.mul(a, b), Float32Array.from([0.5, -6, -4]));
  assert.deepEqual(ops.sqrt(Float32Array.from([4, 9])), Float32Array.from([2, 3]));
  assert.deepEqual(
    ops.div(a, Float32Array.from([1, 2, 3]), 1),
    Float32Array.from([0.5, -2 / 3, 1]),
  );
  assert.deepEqual(ops.clamp(a, 0, 2), Float32Array.from([1, 0, 2]));
  assert.deepEqual(ops.zerosLike(a), new Float32Array(3));
  const c = ops.clone(a);
  c[0] = 9;
  assert.equal(a[0], 1);
  assert.notEqual(ops.fromArray(a), a);
  assert.deepEqual(await ops.toArray(a), a);
});

Deno.test("hostVectorOps.dot accumulates in float64", async () => {
  // 1 + 1e-8·n: float32 accumulation would lose every small term.
  const n = 1000;
  const x = new Float32Array(n + 1).fill(1e-4);
  x[0] = 1;
  const expected = 1 + n * Math.fround(1e-4) ** 2;
  // In float32 every 1 + 1e-8 would round back to 1 (result exactly 1).
  assert.ok(Math.abs(await ops.dot(x, x) - expected) < 1e-12);
});

Deno.test("hostVectorOps rejects vectors of different lengths", () => {
  assert.throws(() => ops.sub(a, new Float32Array(2)), RangeError);
});

Deno.test("hostVectorOps recycles its own disposed arrays, never foreign ones", () => {
  const t = ops.scale(2, Float32Array.from([1, 2, 3, 4, 5, 6, 7]));
  ops.dispose(t);
  const u = ops.axpy(1, Float32Array.from([1, 1, 1, 1, 1, 1, 1]), new Float32Array(7));
  assert.equal(u, t); // the same buffer, fully overwritten
  assert.deepEqual([...u], [1, 1, 1, 1, 1, 1, 1]);
  const foreign = new Float32Array(7);
  ops.dispose(foreign);
  const v = ops.zerosLike(foreign);
  assert.notEqual(v, foreign);
  assert.deepEqual([...v], [0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("hostVectorOps pools only the latest length disposed (a smaller scale's go)", () => {
  const small = ops.scale(1, new Float32Array(9));
  ops.dispose(small);
  const large = ops.scale(1, new Float32Array(11));
  ops.dispose(large);
  assert.equal(ops.scale(1, new Float32Array(11)), large);
  assert.notEqual(ops.scale(1, new Float32Array(9)), small); // released when 11 was pooled
});
