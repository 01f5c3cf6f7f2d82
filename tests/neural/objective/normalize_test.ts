import assert from "node:assert/strict";
import type { ContentTarget, StyleTarget } from "../../../src/neural/objective/spec.ts";
import { normalizeTerms } from "../../../src/neural/objective/normalize.ts";

const content: ContentTarget[] = [
  { layer: "relu3_2", weight: 1, activations: new Float32Array([3, 4, 0, 0]) },
];
const style: StyleTarget[] = [
  { layer: "relu1_1", weight: 1, gram: new Float32Array([2, 2, 2, 2]) },
  { layer: "relu2_1", weight: 3, gram: new Float32Array([10, 0, 0, 10]) },
];
// 2×2 RGB image: only the red channel varies (0, 255 / 0, 0).
const image = {
  height: 2,
  width: 2,
  data: new Float32Array([0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0]),
};

Deno.test("normalizeTerms paper: weights as given", () => {
  const n = normalizeTerms("paper", content, style, { image, layers: new Map() });
  assert.deepEqual(n.content.map((t) => t.weight), [1]);
  assert.deepEqual(n.style.map((t) => t.weight), [1, 3]);
  assert.equal(n.tvScale, 1);
});

// The photo's own Grams at the two style layers: mean(G²) = 1 and 25.
const photo = {
  image,
  layers: new Map([
    ["relu1_1", { gram: new Float32Array([1, -1, 1, -1]), mean: new Float32Array(2) }],
    ["relu2_1", { gram: new Float32Array([5, 5, 5, 5]), mean: new Float32Array(2) }],
  ]),
};

Deno.test("normalizeTerms relative: each term relative to the photo's own, layer weights sum to 1", () => {
  const n = normalizeTerms("relative", content, style, photo);
  assert.equal(n.content[0].weight, 1 / (25 / 4)); // mean(P²) = 25/4
  assert.equal(n.style[0].weight, 0.25 / 1); // share 1/4, the photo's mean(G²) = 1
  assert.equal(n.style[1].weight, 0.75 / 25); // share 3/4, the photo's mean(G²) = 25
  assert.equal(n.tvScale, 1 / (2 * 255 * 255));
  // The painting's own magnitude does not enter: a louder painting pulls harder.
  const louder = style.map((t) => ({ ...t, gram: t.gram.map((v) => v * 100) }));
  const m = normalizeTerms("relative", content, louder, photo);
  assert.deepEqual(m.style.map((t) => t.weight), n.style.map((t) => t.weight));
  // A photo with 10× the contrast (Gram 100×) gets 10⁴× smaller style weights.
  const loudPhoto = {
    image,
    layers: new Map(
      [...photo.layers].map(([l, x]) => [l, { ...x, gram: x.gram.map((v) => v * 100) }]),
    ),
  };
  const k = normalizeTerms("relative", content, style, loudPhoto);
  k.style.forEach((t, i) => assert.ok(Math.abs(t.weight * 1e4 / n.style[i].weight - 1) < 1e-6));
  // Adding a layer does not strengthen the kind: the shares still sum to 1.
  const shares = n.style.map((t, i) => t.weight * [1, 25][i]);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b) - 1) < 1e-12);
});

Deno.test("normalizeTerms relative: a style layer without the photo's Gram is an error", () => {
  assert.throws(
    () => normalizeTerms("relative", content, style, { image, layers: new Map() }),
    /no Gram matrix of the photo at style layer relu1_1/,
  );
});

Deno.test("normalizeTerms relative: a mean-covariance term is divided by the photo's value at zero features", () => {
  // The photo's F = [[1, 2], [3, 4]]: Gram [[2.5, 3.5], [3.5, 5]], m = [2, 3] → S = ½·ones,
  // mean(S²) = 0.25; λ (the term's, here the same m) = 3.25, mean(m²) = 6.5: 0.25 + 3.25·6.5 = 21.375.
  const stats = { gram: Float32Array.from([2.5, 3.5, 3.5, 5]), mean: Float32Array.from([2, 3]) };
  const own = { image, layers: new Map([["relu1_1", stats]]) };
  const target: StyleTarget = {
    layer: "relu1_1",
    weight: 2,
    gram: stats.gram,
    mean: stats.mean,
    statistic: "mean-covariance",
  };
  const n = normalizeTerms("relative", content, [target], own);
  assert.equal(n.style[0].weight, 1 / 21.375);
  assert.equal(n.style[0].statistic, "mean-covariance");
  // The same target as a Gram term: the photo's mean(G²) = (6.25 + 2·12.25 + 25)/4.
  const g = normalizeTerms("relative", content, [{ ...target, statistic: "gram" }], own);
  assert.equal(g.style[0].weight, 1 / 13.9375);
  assert.equal(normalizeTerms("paper", content, [target], own).style[0].weight, 2);
});
