import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { gramTensor, styleLoss } from "../../../../src/neural/engines/tfjs/loss_gram.ts";

// 2×1 pixels, 2 channels: rows (1, 2) and (3, 4); H·W·C = 4
const features = () => tf.tensor3d([1, 2, 3, 4], [2, 1, 2]);

Deno.test("gramTensor is FᵀF / (H·W·C)", async () => {
  await tf.setBackend("cpu");
  const f = features();
  const g = gramTensor(f);
  assert.deepEqual([...await g.data()], [(1 + 9) / 4, (2 + 12) / 4, (2 + 12) / 4, (4 + 16) / 4]);
  tf.dispose([f, g]);
});

Deno.test("a mask weights each pixel's features before the product", async () => {
  await tf.setBackend("cpu");
  const f = features();
  const mask = tf.tensor2d([1, 0.5], [2, 1]);
  const g = gramTensor(f, mask);
  // second row scaled to (1.5, 2)
  assert.deepEqual([...await g.data()], [
    (1 + 2.25) / 4,
    (2 + 3) / 4,
    (2 + 3) / 4,
    (4 + 4) / 4,
  ]);
  tf.dispose([f, mask, g]);
});

Deno.test("styleLoss is the mean squared Gram difference", async () => {
  await tf.setBackend("cpu");
  const f = features();
  const target = tf.tensor2d([2.5, 3.5, 3.5, 4], [2, 2]); // differs from G only in the last entry
  const loss = styleLoss(f, target);
  assert.equal((await loss.data())[0], (5 - 4) ** 2 / 4);
  tf.dispose([f, target, loss]);
});
