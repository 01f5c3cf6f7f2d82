import assert from "node:assert/strict";
import { syntheticVggWeights } from "../../../src/neural/models/synthetic.ts";
import {
  convFlops,
  inputPadding,
  layerSize,
  LayerUnavailableError,
  networkPlan,
  planShape,
  vggPlan,
} from "../../../src/neural/plan/network.ts";

Deno.test("networkPlan: steps in forward order to the deepest layer, shapes floored at each pool", () => {
  const plan = vggPlan("vgg19", "max", 33, 17, ["relu1_1", "conv2_2"]);
  assert.deepEqual(plan.steps.map((s) => s.name), [
    "conv1_1",
    "relu1_1",
    "conv1_2",
    "relu1_2",
    "pool1",
    "conv2_1",
    "relu2_1",
    "conv2_2",
  ]);
  assert.deepEqual(plan.input, { height: 33, width: 17, channels: 3 });
  assert.deepEqual(planShape(plan, "relu1_2"), { height: 33, width: 17, channels: 64 });
  assert.deepEqual(planShape(plan, "pool1"), { height: 16, width: 8, channels: 64 });
  assert.deepEqual(planShape(plan, "conv2_2"), { height: 16, width: 8, channels: 128 });
  const pool = plan.steps[4];
  assert.ok(pool.kind === "pool");
  assert.deepEqual(pool.input, { height: 33, width: 17, channels: 64 });
  const first = plan.steps[0];
  assert.ok(first.kind === "conv" && first.first && first.input.channels === 3);
  assert.throws(() => planShape(plan, "relu2_2"), LayerUnavailableError);
});

Deno.test("convFlops counts 2·9·H·W·C_in·C_out per conv", () => {
  const plan = vggPlan("vgg19", "avg", 4, 6, ["conv2_1"]);
  const expected = 2 * 9 * (4 * 6 * 3 * 64 + 4 * 6 * 64 * 64 + 2 * 3 * 64 * 128);
  assert.equal(convFlops(plan), expected);
});

Deno.test("networkPlan names an unknown layer and the weights' deepest conv", () => {
  const weights = syntheticVggWeights("vgg19", 1, "conv2_1");
  assert.throws(
    () => networkPlan(weights, "max", 8, 8, ["relu1_1", "relu3_1"]),
    (e: unknown) =>
      e instanceof LayerUnavailableError && e.layer === "relu3_1" &&
      /needs conv3_1/.test(e.message) && /deepest available: conv2_1/.test(e.message),
  );
  assert.throws(() => networkPlan(weights, "max", 8, 8, ["fc6"]), /unknown layer "fc6"/);
});

Deno.test("networkPlan padding: only the first conv pads otherwise; reflect on 1-pixel images is replicate", () => {
  const convPaddings = (plan: ReturnType<typeof vggPlan>) =>
    plan.steps.flatMap((s) => (s.kind === "conv" ? [s.padding] : []));
  assert.deepEqual(convPaddings(vggPlan("vgg19", "avg", 9, 7, ["conv2_1"])), [
    "zero",
    "zero",
    "zero",
  ]);
  assert.deepEqual(convPaddings(vggPlan("vgg19", "avg", 9, 7, ["conv2_1"], "reflect")), [
    "reflect",
    "zero",
    "zero",
  ]);
  assert.equal(inputPadding("reflect", 2, 2), "reflect");
  assert.equal(inputPadding("reflect", 1, 5), "replicate");
  assert.equal(inputPadding("reflect", 5, 1), "replicate");
  assert.equal(inputPadding("replicate", 1, 1), "replicate");
  assert.equal(inputPadding("zero", 1, 1), "zero");
  assert.deepEqual(convPaddings(vggPlan("vgg19", "avg", 1, 5, ["conv1_1"], "reflect")), [
    "replicate",
  ]);
});

Deno.test("layerSize floors at each 2×2 stride-2 pool", () => {
  assert.deepEqual(layerSize(1, 224, 224), [224, 224]);
  assert.deepEqual(layerSize(5, 224, 224), [14, 14]);
  assert.deepEqual(layerSize(3, 255, 101), [63, 25]); // 255 → 127 → 63, 101 → 50 → 25
  assert.deepEqual(layerSize(5, 33, 17), [2, 1]); // 33 → 16 → 8 → 4 → 2, 17 → 8 → 4 → 2 → 1
  assert.deepEqual(layerSize(4, 7, 7), [0, 0]); // 7 → 3 → 1 → 0
});
