import assert from "node:assert/strict";
import { join } from "node:path";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { iterationPace, styleTransferStage } from "../../src/stages/style_transfer.ts";
import { transferEvaluations } from "../../src/stages/neural_cost.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

let features: Promise<Value> | undefined;
/** tubingen (32 px) × starry night targets on the layers the partial weights have. */
function tubingenStarry(): Promise<Value> {
  features ??= (async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    const content = imageValue(await exampleImage("tubingen.jpg", 32));
    const style = imageValue(await exampleImage("starry_night.jpg", 32));
    return await runStage(extractFeaturesStage, ctx, { content, style: [style] }, shallowLayers);
  })();
  return features;
}

async function transfer(params: Record<string, unknown>, seed = 42, signal?: AbortSignal) {
  const ctx = await makeTestContext({ engine: testEngine, seed, signal });
  const out = await runStage(styleTransferStage, ctx, { features: await tubingenStarry() }, params);
  assert.equal(out.kind, "image");
  return { out: out as ImageValue, ctx };
}

Deno.test("style-transfer with L-BFGS cuts the loss ≥10× in 30 iterations", opts, async () => {
  const { out, ctx } = await transfer({ iterations: 30 });
  const info = out.info as Record<string, unknown> & {
    final_loss: number;
    initial_loss: number;
    loss_curve: { iteration: number; loss: number }[];
  };
  assert.ok(
    info.final_loss * 10 <= info.initial_loss,
    `loss ${info.initial_loss} → ${info.final_loss}`,
  );
  assert.deepEqual(info.loss_curve.map((p) => p.iteration), [0, 10, 20, 30]);
  assert.equal(info.iterations, 30);
  assert.deepEqual(Object.keys(info.terms as object).sort(), ["content", "style", "tv"]);
  assert.equal(out.image.width, 32);
  assert.equal(out.image.height, 24);
  assert.ok(out.image.data.every((v) => v >= 0 && v <= 1));
  const reports = ctx.progressReports;
  assert.deepEqual(reports.map((r) => r.iteration), Array.from({ length: 30 }, (_, i) => i + 1));
  assert.equal(reports[29].total, 30);
  assert.equal(reports[29].loss, info.final_loss);
  await ctx.dispose();
});

Deno.test("style-transfer: same seed, same pixels; another seed, other pixels", opts, async () => {
  const params = { init: "noise", iterations: 3 };
  const a = await transfer(params, 7);
  const b = await transfer(params, 7);
  const c = await transfer(params, 8);
  assert.deepEqual(a.out.image.data, b.out.image.data);
  assert.notDeepEqual(a.out.image.data, c.out.image.data);
  for (const r of [a, b, c]) await r.ctx.dispose();
});

Deno.test(
  "style-transfer with Adam and keep_best returns the lowest-loss iterate",
  opts,
  async () => {
    const { out, ctx } = await transfer({ optimizer: "adam", iterations: 6, keep_best: true });
    const info = out.info as { final_loss: number; initial_loss: number; best_iteration: number };
    assert.ok(info.final_loss < info.initial_loss);
    const losses = ctx.progressReports.map((r) => r.loss!);
    assert.equal(info.final_loss, Math.min(info.initial_loss, ...losses));
    assert.equal(losses[info.best_iteration - 1], info.final_loss);
    await ctx.dispose();
  },
);

Deno.test(
  "style-transfer save_every writes intermediate PNGs into the output folder",
  opts,
  async () => {
    const { ctx } = await transfer({
      iterations: 4,
      save_every: 2,
      save_name: "{step}-{iteration}.png",
    });
    const names = [];
    for await (const e of Deno.readDir(ctx.dir)) if (e.name.endsWith(".png")) names.push(e.name);
    assert.deepEqual(names, ["test-0002.png"]); // the last iterate is the step's output, not saved here
    assert.ok((await Deno.stat(join(ctx.dir, "test-0002.png"))).size > 100);
    await ctx.dispose();
  },
);

Deno.test("style-transfer stops when the signal is aborted", opts, async () => {
  const controller = new AbortController();
  controller.abort(new Error("cancelled by test"));
  await assert.rejects(transfer({ iterations: 5 }, 42, controller.signal), /cancelled by test/);
});

Deno.test("style-transfer estimate grows with the image and the history", () => {
  const p = styleTransferStage.params.parse({});
  const small = styleTransferStage.estimate!({ features: { width: 128, height: 128 } }, p)!;
  const large = styleTransferStage.estimate!({ features: { width: 256, height: 256 } }, p)!;
  const larger = styleTransferStage.estimate!({ features: { width: 512, height: 512 } }, p)!;
  // Memory = the engine's fixed part + a part proportional to the pixels.
  const growth = (larger.bytes - large.bytes) / (large.bytes - small.bytes);
  assert.ok(Math.abs(growth - 4) < 1e-9, `growth ${growth}`);
  assert.ok(large.seconds! > small.seconds!);
  const adam = styleTransferStage.params.parse({ optimizer: "adam" });
  assert.ok(
    styleTransferStage.estimate!({ features: { width: 128, height: 128 } }, adam)!.bytes <
      small.bytes,
  );
  assert.equal(styleTransferStage.estimate!({}, p), undefined);
});

Deno.test("style-transfer estimate: evaluations per iteration; a tolerance makes it an upper bound", () => {
  const at = (params: Record<string, unknown>) =>
    styleTransferStage.estimate!(
      { features: { width: 256, height: 256 } },
      styleTransferStage.params.parse({ iterations: 200, ...params }),
    )!;
  const wolfe = at({});
  assert.equal(wolfe.upperBound, undefined);
  // 200 · 1.05 + 3 (the first steps' search) + 1 evaluations with strong Wolfe; 200 + 1 without.
  const fixed = at({ line_search: "none" });
  assert.ok(Math.abs(wolfe.seconds! / fixed.seconds! - 214 / 201) < 1e-9);
  const capped = at({ tolerance: 0.01 });
  assert.equal(capped.upperBound, true);
  assert.equal(capped.seconds, wolfe.seconds);
  // The average costs one more evaluation at the end.
  const averaged = at({ optimizer: "adam", ema: 0.9 });
  assert.ok(
    Math.abs(averaged.seconds! / at({ optimizer: "adam", ema: 0 }).seconds! - 202 / 201) < 1e-9,
  );
  assert.equal(transferEvaluations(100, "strong_wolfe"), 109);
  assert.equal(transferEvaluations(0, "strong_wolfe"), 1);
});

Deno.test("the ETA's pace counts this run's iterations after its first (warm-up, resume)", () => {
  const pace = iterationPace();
  assert.ok(Number.isNaN(pace(55, 100))); // resumed at 54: the first report carries the warm-up
  assert.equal(pace(56, 100.5), 0.5);
  assert.equal(pace(60, 103), 0.6);
});
