import assert from "node:assert/strict";
import { scoreImage } from "../../../src/neural/losses/score.ts";
import { loadVggWeights } from "../../../src/neural/models/weights.ts";
import { resizeImage } from "../../../src/image/resample.ts";
import { testWeightsDirs } from "../../stages/_context.ts";
import { exampleImage, testEngine } from "../../stages/_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "score: zero content distance to itself, zero style distance to the style",
  opts,
  async () => {
    const engine = await testEngine();
    const weights = await loadVggWeights(testWeightsDirs(), "vgg19");
    const photo = await exampleImage("tubingen.jpg", 32);
    const painting = await exampleImage("starry_night.jpg", 32);
    const self = await scoreImage(engine, weights, photo, photo, painting);
    assert.equal(self.content, 0);
    assert.ok(self.style > 1, `photo vs painting style distance ${self.style}`);
    // The painting scored against itself (same size, so no resampling): style distance 0.
    const styled = await scoreImage(engine, weights, painting, photo, painting);
    assert.equal(styled.style, 0);
    assert.ok(styled.content > 0);
    // The content image is resized to the output's size: a larger copy of the photo is far closer
    // than the painting is.
    const larger = resizeImage(photo, 64, 48, "lanczos3");
    const fromLarger = await scoreImage(engine, weights, photo, larger, painting);
    assert.ok(
      fromLarger.content * 10 < styled.content,
      `${fromLarger.content} vs ${styled.content}`,
    );
  },
);
