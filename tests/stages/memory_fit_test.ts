/**
 * The memory model's choice (src/stages/memory_fit.ts): the whole image whenever it fits, else the
 * largest even tiling within the budget, pairs lowered only when no 512 px tile fits, `tile:`
 * forced, and the estimate over the budget only where nothing fits.
 */
import assert from "node:assert/strict";
import { tilingFor } from "../../src/neural/objective/tiling.ts";
import {
  heldFloats,
  MIN_PAIRS,
  minTile,
  PREFERRED_TILE,
  TILE_ALIGN,
} from "../../src/stages/memory_fit.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import type { PlannedFeatures } from "../../src/stages/stage.ts";

const GiB = 1024 ** 3;
const conv3: PlannedFeatures = {
  model: "vgg19",
  contentLayers: ["relu3_2"],
  styleLayers: ["relu1_1", "relu2_1", "relu3_1"],
  styleScale: 1,
  masked: false,
};
const layers = [...conv3.contentLayers, ...conv3.styleLayers];

/** The fit of an onnx transfer of `iterations` with `history` pairs at width × height. */
function fit(width: number, height: number, budget: number, extra: Partial<{ tile: number }> = {}) {
  const p = styleTransferStage.params.parse({ iterations: 5, lbfgs_history: 20, ...extra });
  return styleTransferStage.estimate!(
    { features: { width, height, features: conv3 } },
    p,
    { engine: "onnx", memory: budget },
  )!;
}

Deno.test("memory fit: the whole image whenever it fits, without fit or tiling", () => {
  const e = fit(1024, 768, 4 * GiB);
  assert.ok(e.bytes <= 4 * GiB);
  assert.equal(e.fit, undefined);
  assert.equal(e.tiling, undefined);
  // Unbounded, even a print is evaluated whole.
  assert.equal(fit(4096, 3072, Infinity).tiling, undefined);
});

Deno.test("memory fit: 4096×3072 in 4 GiB is an even tiling within the budget", () => {
  const whole = fit(4096, 3072, Infinity);
  assert.ok(whole.bytes > 4 * GiB, `whole ${whole.bytes}`);
  const e = fit(4096, 3072, 4 * GiB);
  assert.ok(e.bytes <= 4 * GiB, `${e.bytes}`);
  const t = e.tiling!;
  assert.deepEqual(e.fit?.tile, t.tile);
  assert.equal(t.tile % TILE_ALIGN, 0);
  assert.equal(t.halo, 16); // relu3_2's context, on its stride of 4
  // Pairs go before the tile drops below 512 px.
  assert.ok(t.tile >= PREFERRED_TILE || e.fit?.history === MIN_PAIRS, JSON.stringify(e));
  assert.ok(t.tile >= minTile(16));
  assert.equal(t.cols, Math.ceil(4096 / t.tile));
  assert.equal(t.rows, Math.ceil(3072 / t.tile));
  // Even: one aligned step less would need another row or column.
  const smaller = tilingFor("vgg19", layers, 3072, 4096, t.tile - TILE_ALIGN);
  assert.ok(smaller.rows * smaller.cols > t.rows * t.cols);
  // Tiling costs time: the halo and the second forward pass.
  assert.ok(e.seconds! > whole.seconds!);
});

Deno.test("memory fit: pairs beyond the iterations are not a fit; fewer only below a 512 px tile", () => {
  // 5 iterations keep at most 5 of the 20 pairs: no history in the fit where 5 fit.
  const roomy = fit(4096, 3072, 8 * GiB);
  assert.ok(roomy.tiling && roomy.fit?.history === undefined, JSON.stringify(roomy));
  const tight = fit(4096, 3072, 4 * GiB);
  const pairs = tight.fit?.history ?? 5;
  assert.ok(pairs >= MIN_PAIRS && pairs <= 5);
  if (pairs < 5) {
    // With one pair more, no preferred tile would fit.
    const p = styleTransferStage.params.parse({ iterations: 5, lbfgs_history: pairs + 1 });
    const more = styleTransferStage.estimate!(
      { features: { width: 4096, height: 3072, features: conv3 } },
      { ...p, tile: tight.tiling!.tile },
      { engine: "onnx", memory: 4 * GiB },
    )!;
    assert.ok(more.bytes > 4 * GiB || more.fit?.history !== undefined);
  }
});

Deno.test("memory fit: tile: forces the tiling, even where the whole image fits", () => {
  const e = fit(1024, 768, 64 * GiB, { tile: 512 });
  assert.deepEqual(e.tiling, { tile: 512, halo: 16, rows: 2, cols: 2 });
  assert.deepEqual(e.fit, { tile: 512 });
});

Deno.test("memory fit: where no tile fits, the estimate stays over the budget", () => {
  const e = fit(4096, 3072, 1 * GiB);
  assert.ok(e.bytes > 1 * GiB);
  assert.equal(e.fit?.history, MIN_PAIRS);
  assert.equal(e.tiling!.tile, minTile(16));
});

Deno.test("memory fit: held floats count the content target (64 B a pixel at relu3_2)", () => {
  const base = heldFloats(conv3, 1024, 1024, { margin: false, images: 0 });
  const noStyleImage = base - 1024 * 1024 * 3; // the style image, style_scale 1
  const grams = 2 * (64 * 64 + 128 * 128 + 256 * 256);
  assert.equal(noStyleImage - grams, 256 * 256 * 256);
  const margin = heldFloats(conv3, 1024, 1024, { margin: true, images: 0 });
  assert.equal(margin - base, 256 * 256 * 256);
});
