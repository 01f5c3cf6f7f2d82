import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { contentLoss } from "../../../../src/neural/engines/tfjs/loss_content.ts";

Deno.test("contentLoss is the mean squared difference", async () => {
  await tf.setBackend("cpu");
  const f = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
  const p = tf.tensor3d([1, 0, 3, 1, 5, 10], [1, 2, 3]);
  const loss = contentLoss(f, p);
  assert.equal((await loss.data())[0], Math.fround((0 + 4 + 0 + 9 + 0 + 16) / 6));
  tf.dispose([f, p, loss]);
});
