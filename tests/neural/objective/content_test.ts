import assert from "node:assert/strict";
import { contentTarget } from "../../../src/neural/objective/content.ts";

// 1 × 2 pixels, 2 channels: F = [[1, 2], [3, 4]].
const act = { height: 1, width: 2, channels: 2, data: Float32Array.from([1, 2, 3, 4]) };

Deno.test("contentTarget takes the activations over without a copy", () => {
  const t = contentTarget("relu4_2", 1, act);
  assert.equal(t.activations, act.data);
});
