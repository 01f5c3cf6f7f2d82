import assert from "node:assert/strict";
import {
  apply3,
  cholesky3,
  IDENTITY3,
  invert3,
  mul3,
  symmetricEigen3,
  symmetricFunction3,
} from "../../src/image/mat3.ts";
import { maxAbsDiff } from "./_color_fixtures.ts";

/** The transpose of a row-major 3×3 matrix. */
function transpose3(m: readonly number[]): number[] {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

const SPD = [0.0091, 0.0046, 0.0018, 0.0046, 0.0062, 0.0028, 0.0018, 0.0028, 0.0038];

Deno.test("mul3, transpose3 and apply3 on known values", () => {
  const a = [1, 2, 3, 4, 5, 6, 7, 8, 10];
  assert.deepEqual(mul3(a, IDENTITY3), a);
  assert.deepEqual(transpose3(a), [1, 4, 7, 2, 5, 8, 3, 6, 10]);
  assert.deepEqual(mul3(a, [0, 0, 1, 0, 1, 0, 1, 0, 0]), [3, 2, 1, 6, 5, 4, 10, 8, 7]);
  assert.deepEqual(apply3(a, [1, 0, -1]), [-2, -2, -3]);
});

Deno.test("invert3 gives the inverse and rejects a singular matrix", () => {
  const a = [1, 2, 3, 4, 5, 6, 7, 8, 10];
  assert.ok(maxAbsDiff(mul3(a, invert3(a)), IDENTITY3) < 1e-14);
  assert.equal(
    maxAbsDiff(invert3([2, 0, 0, 0, 4, 0, 0, 0, 8]), [0.5, 0, 0, 0, 0.25, 0, 0, 0, 0.125]),
    0,
  );
  assert.throws(() => invert3([1, 2, 3, 4, 5, 6, 7, 8, 9]), /singular/);
});

Deno.test("cholesky3: L is lower triangular with L·Lᵀ = m; indefinite matrices are rejected", () => {
  const l = cholesky3(SPD);
  assert.equal(l[1], 0);
  assert.equal(l[2], 0);
  assert.equal(l[5], 0);
  assert.ok(maxAbsDiff(mul3(l, transpose3(l)), SPD) < 1e-18);
  assert.deepEqual(cholesky3([4, 2, 0, 2, 5, 0, 0, 0, 9]), [2, 0, 0, 1, 2, 0, 0, 0, 3]);
  assert.throws(() => cholesky3([1, 2, 0, 2, 1, 0, 0, 0, 1]), /positive definite/);
});

Deno.test("symmetricEigen3 (Jacobi): U·diag(λ)·Uᵀ = m, U orthonormal, λ ascending", () => {
  for (
    const m of [SPD, [2, 1, 0, 1, 2, 0, 0, 0, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1], [
      5,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      3,
    ]]
  ) {
    const { values, vectors: u } = symmetricEigen3(m);
    assert.ok(values[0] <= values[1] && values[1] <= values[2]);
    assert.ok(maxAbsDiff(mul3(transpose3(u), u), IDENTITY3) < 1e-14);
    const d = [values[0], 0, 0, 0, values[1], 0, 0, 0, values[2]];
    const scale = Math.max(...m.map(Math.abs));
    assert.ok(maxAbsDiff(mul3(mul3(u, d), transpose3(u)), m) < 1e-14 * scale);
  }
  // [[2,1,0],[1,2,0],[0,0,3]] has eigenvalues 1, 3, 3.
  const { values } = symmetricEigen3([2, 1, 0, 1, 2, 0, 0, 0, 3]);
  assert.ok(maxAbsDiff(values, [1, 3, 3]) < 1e-14);
});

Deno.test("symmetricFunction3: the square root squares back, and √·(1/√) is the identity", () => {
  const root = symmetricFunction3(SPD, Math.sqrt);
  assert.ok(maxAbsDiff(root, transpose3(root)) < 1e-16);
  assert.ok(maxAbsDiff(mul3(root, root), SPD) < 1e-16);
  const invRoot = symmetricFunction3(SPD, (l) => 1 / Math.sqrt(l));
  assert.ok(maxAbsDiff(mul3(root, invRoot), IDENTITY3) < 1e-12);
});
