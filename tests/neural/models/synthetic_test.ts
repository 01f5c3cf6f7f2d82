import assert from "node:assert/strict";
import { convLayers } from "../../../src/neural/models/layers.ts";
import { syntheticVggWeights } from "../../../src/neural/models/synthetic.ts";
import { WeightsError } from "../../../src/neural/models/weights.ts";

Deno.test("synthetic VGG19 up to relu4_2 has the real shapes and He-normal scale", () => {
  const w = syntheticVggWeights("vgg19", 7, "relu4_2");
  assert.equal(w.arch, "vgg19");
  assert.equal(w.id, "synthetic:vgg19:7:conv4_2");
  const layers = convLayers("vgg19").slice(0, 10);
  assert.deepEqual([...w.convs.keys()], layers.map((l) => l.name));
  for (const l of layers) {
    const c = w.convs.get(l.name)!;
    assert.equal(c.kernel.length, 9 * l.inChannels * l.outChannels, l.name);
    assert.equal(c.bias.length, l.outChannels, l.name);
    assert.ok(c.bias.every((b) => Math.abs(b) <= 0.05), `${l.name} bias is small`);
  }
  // conv4_2: 2.36 M samples, so the sample std is within 1% of sqrt(2 / (9·512)).
  const k = w.convs.get("conv4_2")!.kernel;
  let sum = 0, sumSq = 0;
  for (const v of k) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / k.length;
  const std = Math.sqrt(sumSq / k.length - mean * mean);
  const expected = Math.sqrt(2 / (9 * 512));
  assert.ok(Math.abs(std / expected - 1) < 0.01, `std ${std} vs ${expected}`);
  assert.ok(Math.abs(mean) < 1e-3 * expected * 10, `mean ${mean}`);
});

Deno.test("synthetic weights are deterministic per seed and independent of upTo", () => {
  const a = syntheticVggWeights("vgg16", 3, "conv2_1");
  const b = syntheticVggWeights("vgg16", 3, "pool2");
  const c = syntheticVggWeights("vgg16", 4, "conv2_1");
  assert.deepEqual(a.convs.get("conv2_1"), b.convs.get("conv2_1"));
  assert.equal(b.convs.size, 4);
  assert.equal(b.id, "synthetic:vgg16:3:conv2_2");
  assert.notDeepEqual(a.convs.get("conv1_1")!.kernel, c.convs.get("conv1_1")!.kernel);
  assert.throws(() => syntheticVggWeights("vgg16", 3, "conv3_4"), WeightsError);
});
