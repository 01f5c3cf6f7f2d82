import assert from "node:assert/strict";
import type { ObjectiveSpec } from "../../../src/neural/objective/spec.ts";
import { syntheticVggWeights } from "../../../src/neural/models/synthetic.ts";
import {
  groupTerms,
  layersRead,
  lossPlan,
  planStructure,
} from "../../../src/neural/objective/terms.ts";

const weights = syntheticVggWeights("vgg19", 3, "conv2_1");

function spec(overrides: Partial<ObjectiveSpec> = {}): ObjectiveSpec {
  return {
    weights,
    pooling: "avg",
    height: 4,
    width: 6,
    content: [{ layer: "relu2_1", weight: 2, activations: new Float32Array(2 * 3 * 128) }],
    style: [
      { layer: "relu1_1", weight: 0.5, gram: new Float32Array(64 * 64) },
      {
        layer: "pool1",
        weight: 0.25,
        gram: new Float32Array(64 * 64),
        mask: Float32Array.from({ length: 24 }, (_, i) => (i % 6 < 3 ? 1 : 0)),
      },
    ],
    contentWeight: 5,
    styleWeight: 100,
    tvWeight: 1e-3,
    ...overrides,
  };
}

Deno.test("lossPlan: one term per target, whole weights, masks at the layer's resolution", () => {
  const plan = lossPlan(spec());
  assert.deepEqual(plan.terms.map((t) => t.kind), ["content", "gram", "masked-gram", "tv"]);
  assert.deepEqual(plan.terms.map((t) => t.weight), [10, 50, 25, 1e-3]);
  assert.deepEqual(layersRead(plan.terms), ["relu2_1", "relu1_1", "pool1"]);
  assert.equal(plan.network.steps.at(-1)!.name, "relu2_1");
  const masked = plan.terms[2];
  assert.ok(masked.kind === "masked-gram");
  assert.deepEqual(masked.shape, { height: 2, width: 3, channels: 64 });
  // The left half of a 4×6 mask, area-averaged to 2×3: columns 0, ½ (straddling), 1 → 1, ½, 0.
  assert.deepEqual([...masked.mask], [1, 0.5, 0, 1, 0.5, 0]);
});

Deno.test("lossPlan refuses a target of the wrong size, naming it", () => {
  const bad = spec({
    content: [{ layer: "relu2_1", weight: 1, activations: new Float32Array(5) }],
  });
  assert.throws(() => lossPlan(bad), /content target relu2_1 has 5 values, expected 2×3×128/);
});

Deno.test("groupTerms adds the terms per reported group; an empty group is zero", () => {
  const plan = lossPlan(spec());
  const values = new Map(plan.terms.map((t, i) => [t, i + 1]));
  const groups = groupTerms(
    plan.terms,
    (t) => values.get(t)!,
    (v) => v.reduce((a, b) => a + b),
    () => 0,
  );
  assert.deepEqual(groups, { content: 1, style: 2 + 3, tv: 4 });
  const none = lossPlan(spec({ content: [] }));
  assert.equal(groupTerms(none.terms, () => 1, (v) => v.length, () => 0).content, 0);
});

Deno.test("planStructure changes with a term's kind or layer, not with its values", () => {
  const base = planStructure(lossPlan(spec()), weights.id);
  assert.equal(planStructure(lossPlan(spec({ styleWeight: 7, tvWeight: 0 })), weights.id), base);
  const unmasked = spec();
  const style = unmasked.style.map((s) => ({ ...s, mask: undefined }));
  assert.notEqual(planStructure(lossPlan({ ...unmasked, style }), weights.id), base);
  assert.notEqual(planStructure(lossPlan(spec({ pooling: "max" })), weights.id), base);
  assert.equal(planStructure(lossPlan(spec({ padding: "zero" })), weights.id), base);
  const reflect = planStructure(lossPlan(spec({ padding: "reflect" })), weights.id);
  assert.notEqual(reflect, base);
  assert.notEqual(planStructure(lossPlan(spec({ padding: "replicate" })), weights.id), reflect);
});

Deno.test("lossPlan: a mean-covariance target becomes its term (S = A − mmᵀ/C, λ); masks refused", () => {
  const gram = new Float32Array(64 * 64).fill(1);
  const mean = new Float32Array(64).fill(4); // mmᵀ/C = 16/64 = 0.25 everywhere
  const target = {
    layer: "relu1_1",
    weight: 0.5,
    gram,
    mean,
    statistic: "mean-covariance" as const,
  };
  const plan = lossPlan(spec({ style: [target] }));
  const term = plan.terms[1];
  assert.ok(term.kind === "mean-covariance");
  assert.equal(term.weight, 50);
  assert.ok(term.covariance.every((v) => v === 0.75));
  assert.equal(term.meanWeight, 2 * 16 / (64 * 64));
  assert.equal(planStructure(plan, "w").split("|").at(-2), "mean-covariance:relu1_1");
  assert.throws(
    () => lossPlan(spec({ style: [{ ...target, mask: new Float32Array(24) }] })),
    /relu1_1: mean-covariance does not take a region mask/,
  );
  assert.throws(
    () => lossPlan(spec({ style: [{ ...target, mean: undefined }] })),
    /relu1_1: mean-covariance needs the mean/,
  );
  assert.throws(
    () => lossPlan(spec({ style: [{ ...target, mean: new Float32Array(3) }] })),
    /style target relu1_1 mean has 3 values, expected 1×64/,
  );
});
