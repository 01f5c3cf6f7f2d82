import assert from "node:assert/strict";
import type { ContentTarget, StyleTarget } from "../../../src/neural/engines/engine.ts";
import { normalizeTerms, totalVariation } from "../../../src/neural/losses/normalize.ts";

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

Deno.test("totalVariation: squared differences of vertical and horizontal neighbours", () => {
  // red: row 0 = [0, 255], row 1 = [0, 0] → (255)² horizontally + (255)² vertically.
  assert.equal(totalVariation(image), 2 * 255 * 255);
});

Deno.test("normalizeTerms paper: weights as given", () => {
  const n = normalizeTerms("paper", content, style, image);
  assert.deepEqual(n.content.map((t) => t.weight), [1]);
  assert.deepEqual(n.style.map((t) => t.weight), [1, 3]);
  assert.equal(n.tvScale, 1);
});

Deno.test("normalizeTerms relative: each term relative to its target, layer weights sum to 1", () => {
  const n = normalizeTerms("relative", content, style, image);
  assert.equal(n.content[0].weight, 1 / (25 / 4)); // mean(P²) = 25/4
  assert.equal(n.style[0].weight, 0.25 / 4); // share 1/4, mean(A²) = 4
  assert.equal(n.style[1].weight, 0.75 / 50); // share 3/4, mean(A²) = 50
  assert.equal(n.tvScale, 1 / (2 * 255 * 255));
  // A style image with 10× the contrast (Gram 100×) gets a 10⁴× smaller weight: the same term.
  const louder = style.map((t) => ({ ...t, gram: t.gram.map((v) => v * 100) }));
  const m = normalizeTerms("relative", content, louder, image);
  m.style.forEach((t, i) => assert.ok(Math.abs(t.weight * 1e4 / n.style[i].weight - 1) < 1e-6));
  // Adding a layer does not strengthen the kind: the shares still sum to 1.
  const shares = n.style.map((t, i) => t.weight * [4, 50][i]);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b) - 1) < 1e-12);
});

Deno.test("normalizeTerms relative: a mean-covariance term is divided by its value at zero features", () => {
  // F = [[1, 2], [3, 4]]: Gram [[2.5, 3.5], [3.5, 5]], m = [2, 3] → S = ½·ones, mean(S²) = 0.25;
  // λ = 3.25, mean(m²) = 6.5: the term of a zero image is 0.25 + 3.25·6.5 = 21.375.
  const target: StyleTarget = {
    layer: "relu1_1",
    weight: 2,
    gram: Float32Array.from([2.5, 3.5, 3.5, 5]),
    mean: Float32Array.from([2, 3]),
    statistic: "mean-covariance",
  };
  const n = normalizeTerms("relative", content, [target], image);
  assert.equal(n.style[0].weight, 1 / 21.375);
  assert.equal(n.style[0].statistic, "mean-covariance");
  // The same target as a Gram term: mean(A²) = (6.25 + 2·12.25 + 25)/4.
  const g = normalizeTerms("relative", content, [{ ...target, statistic: "gram" }], image);
  assert.equal(g.style[0].weight, 1 / 13.9375);
  assert.equal(normalizeTerms("paper", content, [target], image).style[0].weight, 2);
});
