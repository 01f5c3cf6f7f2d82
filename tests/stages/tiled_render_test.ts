/**
 * Renders evaluated tile by tile (issue 20) on onnx at 64×48, tiles of 32 px (2×2): the same
 * pixels as the whole-image render within 1/255, identical bytes when repeated, a bit-identical
 * resume from a checkpoint, the tiling in the result's info, the tile in the progress, and the
 * plan's tile (ctx.fit) obeyed like `tile:`.
 */
import assert from "node:assert/strict";
import { createEngine } from "../../src/neural/engines/providers.ts";
import type { Engine } from "../../src/neural/engines/engine.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";
import { exampleImage, shallowLayers } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
let engine: Promise<Engine> | undefined;
const onnx = () => engine ??= createEngine("onnx");

let features: Promise<Value> | undefined;
/** tubingen (64 × 48) × starry night, on the layers the partial weights have. */
function targets(): Promise<Value> {
  features ??= (async () => {
    const ctx = await makeTestContext({ engine: onnx });
    const content = imageValue(await exampleImage("tubingen.jpg", 64));
    const style = imageValue(await exampleImage("starry_night.jpg", 64));
    return await runStage(extractFeaturesStage, ctx, { content, style: [style] }, shallowLayers);
  })();
  return features;
}

/**
 * A 4-iteration render without line search; `tile` as the recipe's parameter or as the plan's fit.
 * (The strong Wolfe search's first steps, ×10 per evaluation, turn the tiled objective's 1e-6
 * relative difference into other accepted steps: 8/255 apart after 4 iterations here.)
 */
async function render(
  params: Record<string, unknown>,
  fit?: { tile: number },
  options: { signal?: AbortSignal; checkpoints?: unknown } = {},
) {
  const base = await makeTestContext({ engine: onnx, signal: options.signal });
  const ctx = {
    ...base,
    ...(fit ? { fit } : {}),
    ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
  } as typeof base;
  const out = await runStage(
    styleTransferStage,
    ctx,
    { features: await targets() },
    { iterations: 4, line_search: "none", checkpoint_every: 0, ...params },
  );
  return { out: out as ImageValue, ctx: base };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("tiled 2×2 render: pixels within 1/255 of the whole-image render", opts, async () => {
  const whole = await render({});
  const tiled = await render({ tile: 32 });
  assert.deepEqual(tiled.out.info?.tiling, { tile: 32, halo: 16, rows: 2, cols: 2 });
  assert.equal(whole.out.info?.tiling, undefined);
  const d = maxDiff(whole.out.image.data, tiled.out.image.data);
  assert.ok(d <= 1 / 255, `max difference ${d * 255}/255`);
  // Not trivially equal: the loss moved.
  assert.ok((tiled.out.info!.final_loss as number) < (tiled.out.info!.initial_loss as number));
  // The tile is reported between iterations: 4 tiles a pass.
  const tiles = tiled.ctx.progressReports.filter((p) => p.tile !== undefined);
  assert.ok(tiles.length >= 8 && tiles.every((p) => p.tiles === 4 && p.tile! >= 1 && p.tile! <= 4));
});

Deno.test(
  "tiled render: the plan's tile (ctx.fit) as tile:, identical bytes when repeated",
  opts,
  async () => {
    const a = await render({ tile: 32 });
    const b = await render({}, { tile: 32 });
    assert.deepEqual(b.out.info?.tiling, a.out.info?.tiling);
    assert.deepEqual(b.out.image.data, a.out.image.data);
  },
);

Deno.test("tiled render: a resume from a checkpoint is bit-identical", opts, async () => {
  const params = { tile: 32, checkpoint_every: 4, iterations: 8 };
  const straight = await render(params);
  // Cancel after iteration 6: without a line search the abort checkpoints whole iterations (6);
  // resume with the same checkpoint store.
  const first = await makeTestContext({ engine: onnx });
  const controller = new AbortController();
  const watching = {
    ...first,
    signal: controller.signal,
    progress: (p: { iteration?: number; tile?: number }) => {
      if (p.iteration === 6 && p.tile === undefined) controller.abort(new Error("stop"));
    },
  } as typeof first;
  await assert.rejects(
    runStage(styleTransferStage, watching, { features: await targets() }, {
      line_search: "none",
      ...params,
    }),
  );
  const resumed = await render(params, undefined, { checkpoints: first.checkpoints });
  assert.ok(
    resumed.ctx.notes.some((n) => /resumed from iteration 6\b/.test(n)),
    resumed.ctx.notes.join(),
  );
  assert.deepEqual(resumed.out.image.data, straight.out.image.data);
});

Deno.test("tiled render: a cancel stops within a tile", opts, async () => {
  const controller = new AbortController();
  let seen = 0;
  const base = await makeTestContext({ engine: onnx, signal: controller.signal });
  const ctx = {
    ...base,
    progress: (p: { tile?: number }) => {
      if (p.tile !== undefined && ++seen === 2) controller.abort(new Error("cancelled in a tile"));
    },
  } as typeof base;
  await assert.rejects(
    runStage(styleTransferStage, ctx, { features: await targets() }, { tile: 32, iterations: 5 }),
    /cancelled in a tile/,
  );
  assert.equal(seen, 2);
});
