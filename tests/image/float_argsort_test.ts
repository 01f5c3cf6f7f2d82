import assert from "node:assert/strict";
import { argsortFloat32 } from "../../src/image/float_argsort.ts";
import { Prng } from "../../src/util/prng.ts";

Deno.test("argsortFloat32 orders negatives, zeros, infinities and keeps ties stable", () => {
  const values = new Float32Array([0.5, -2, Infinity, 0, -Infinity, 0.5, -0.25, 1e-30, 0.5]);
  assert.deepEqual([...argsortFloat32(values)], [4, 1, 6, 3, 7, 0, 5, 8, 2]);
  assert.deepEqual([...argsortFloat32(new Float32Array(0))], []);
});

Deno.test("argsortFloat32 agrees with a comparator sort on random data", () => {
  const prng = new Prng(9);
  const values = Float32Array.from({ length: 5000 }, () => (prng.float() - 0.3) * 1e3);
  const order = argsortFloat32(values);
  const expected = [...values.keys()].sort((i, j) => values[i] - values[j] || i - j);
  assert.deepEqual([...order], expected);
});
