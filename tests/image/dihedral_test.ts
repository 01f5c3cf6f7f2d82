import assert from "node:assert/strict";
import { applyDihedral, type DihedralOp } from "../../src/image/dihedral.ts";
import { grayImage, redRows } from "./_images.ts";

// 3 wide, 2 tall, values 1…6 in reading order.
const image = grayImage([[1, 2, 3], [4, 5, 6]]);

const expected: Record<DihedralOp, number[][]> = {
  "identity": [[1, 2, 3], [4, 5, 6]],
  "flip-horizontal": [[3, 2, 1], [6, 5, 4]],
  "flip-vertical": [[4, 5, 6], [1, 2, 3]],
  "rotate180": [[6, 5, 4], [3, 2, 1]],
  "rotate90": [[4, 1], [5, 2], [6, 3]],
  "rotate270": [[3, 6], [2, 5], [1, 4]],
  "transpose": [[1, 4], [2, 5], [3, 6]],
  "transverse": [[6, 3], [5, 2], [4, 1]],
};

for (const [op, rows] of Object.entries(expected)) {
  Deno.test(`dihedral ${op} permutes pixels exactly`, () => {
    assert.deepEqual(redRows(applyDihedral(image, op as DihedralOp)), rows);
  });
}

Deno.test("dihedral: four quarter turns are the identity", () => {
  let x = image;
  for (let i = 0; i < 4; i++) x = applyDihedral(x, "rotate90");
  assert.deepEqual(x, image);
});
