import assert from "node:assert/strict";
import { totalVariation } from "../../../src/neural/objective/tv.ts";

Deno.test("totalVariation: squared differences of vertical and horizontal neighbours", () => {
  // red: row 0 = [0, 255], row 1 = [0, 0] → (255)² horizontally + (255)² vertically.
  assert.equal(
    totalVariation({
      height: 2,
      width: 2,
      data: new Float32Array([0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0]),
    }),
    2 * 255 * 255,
  );
});
