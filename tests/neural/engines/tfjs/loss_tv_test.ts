import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { totalVariation } from "../../../../src/neural/engines/tfjs/loss_tv.ts";

Deno.test("totalVariation sums squared vertical and horizontal neighbour differences", async () => {
  await tf.setBackend("cpu");
  // 2×2 image, 1 channel: [[0, 1], [3, 7]] → vertical 3², 6²; horizontal 1², 4²
  const x = tf.tensor3d([0, 1, 3, 7], [2, 2, 1]);
  const tv = totalVariation(x);
  assert.equal((await tv.data())[0], 9 + 36 + 1 + 16);
  // channels add up and a constant image has none
  const flat = tf.fill([3, 4, 3], 42) as tf.Tensor3D;
  const zero = totalVariation(flat);
  assert.equal((await zero.data())[0], 0);
  tf.dispose([x, tv, flat, zero]);
});
