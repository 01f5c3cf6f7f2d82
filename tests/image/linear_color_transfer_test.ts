import assert from "node:assert/strict";
import { colorStats } from "../../src/image/color_stats.ts";
import { greyFromLuminance } from "../../src/image/color.ts";
import {
  linearColorTransfer,
  linearTransferTransform,
} from "../../src/image/linear_color_transfer.ts";
import { IDENTITY3, mul3, symmetricFunction3 } from "../../src/image/mat3.ts";
import { Prng } from "../../src/util/prng.ts";
import { coolImage, maxAbsDiff, warmImage } from "./_color_fixtures.ts";

// Channel variances are ~1e-3…1e-2; matched statistics agree far inside these tolerances.
const MEAN_TOLERANCE = 1e-6;
const COVARIANCE_TOLERANCE = 1e-7;

for (const variant of ["cholesky", "pca"] as const) {
  Deno.test(`linear transfer (${variant}): output mean and covariance equal the target's`, () => {
    const source = warmImage(), target = coolImage();
    const out = linearColorTransfer(source, target, variant);
    assert.equal(out.width, source.width);
    assert.equal(out.height, source.height);
    const got = colorStats(out), want = colorStats(target);
    assert.ok(maxAbsDiff(got.mean, want.mean) < MEAN_TOLERANCE, `${got.mean} vs ${want.mean}`);
    const covError = maxAbsDiff(got.covariance, want.covariance);
    assert.ok(covError < COVARIANCE_TOLERANCE, `covariance off by ${covError}`);
    // Sanity: the source really had different statistics.
    assert.ok(maxAbsDiff(colorStats(source).covariance, want.covariance) > 1e-3);
  });

  Deno.test(`linear transfer (${variant}): equal statistics give the identity map`, () => {
    const stats = colorStats(warmImage());
    const t = linearTransferTransform(stats, stats, variant);
    assert.ok(maxAbsDiff(t.matrix, IDENTITY3) < 1e-9);
    const image = warmImage();
    assert.ok(maxAbsDiff(linearColorTransfer(image, image, variant).data, image.data) < 1e-6);
  });

  Deno.test(`linear transfer (${variant}): a grey (singular) source stays finite`, () => {
    const prng = new Prng(3);
    const luma = Float32Array.from({ length: 64 }, () => 0.3 + 0.4 * prng.float());
    const out = linearColorTransfer(greyFromLuminance(luma, 8, 8), coolImage(), variant);
    assert.ok(out.data.every(Number.isFinite));
    const got = colorStats(out), want = colorStats(coolImage());
    assert.ok(maxAbsDiff(got.mean, want.mean) < MEAN_TOLERANCE);
  });
}

Deno.test("pca variant is Σ_t^½ Σ_s^-½ (symmetric roots); cholesky differs but maps Σ_s to Σ_t", () => {
  const s = colorStats(warmImage()), t = colorStats(coolImage());
  const pca = linearTransferTransform(s, t, "pca", 0).matrix;
  const expected = mul3(
    symmetricFunction3(t.covariance, Math.sqrt),
    symmetricFunction3(s.covariance, (l) => 1 / Math.sqrt(l)),
  );
  assert.ok(maxAbsDiff(pca, expected) < 1e-12);
  const chol = linearTransferTransform(s, t, "cholesky", 0).matrix;
  assert.ok(maxAbsDiff(chol, pca) > 1e-2);
  for (const a of [chol, pca]) {
    const at = [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]];
    assert.ok(maxAbsDiff(mul3(mul3(a, s.covariance), at), t.covariance) < 1e-15);
  }
});
