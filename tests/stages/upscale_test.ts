import assert from "node:assert/strict";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { upscaledSize, upscaleStage } from "../../src/stages/upscale.ts";
import { imageValue, makeTestContext, runStage } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

interface Fixture {
  features: Value;
  content: Value;
  style: Value;
  first: ImageValue;
}

let fixture: Promise<Fixture> | undefined;
/** 24 px tubingen × starry night, transferred with 10 L-BFGS iterations. */
function firstScale(): Promise<Fixture> {
  fixture ??= (async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    const content = imageValue(await exampleImage("tubingen.jpg", 64));
    const style = imageValue(await exampleImage("starry_night.jpg", 64));
    const small = imageValue(await exampleImage("tubingen.jpg", 24));
    const features = await runStage(
      extractFeaturesStage,
      ctx,
      { content: small, style: [style] },
      shallowLayers,
    );
    const first = await runStage(styleTransferStage, ctx, { features }, { iterations: 10 });
    return { features, content, style, first: first as ImageValue };
  })();
  return fixture;
}

Deno.test("upscaledSize: factor or longer side, aspect kept", () => {
  assert.deepEqual(upscaledSize(32, 24, { factor: 2 }), { width: 64, height: 48 });
  assert.deepEqual(upscaledSize(32, 24, { size: 40 }), { width: 40, height: 30 });
  assert.deepEqual(upscaledSize(24, 32, { size: 100 }), { width: 75, height: 100 });
});

Deno.test("upscale params: exactly one of factor and size", () => {
  assert.equal(upscaleStage.params.safeParse({}).success, false);
  assert.equal(upscaleStage.params.safeParse({ factor: 2, size: 64 }).success, false);
  const p = upscaleStage.params.parse({ size: 64 });
  assert.equal(p.filter, "lanczos3");
  assert.equal(p.iterations, 100);
  // style-transfer's defaults, from its schema
  assert.equal(p.normalization, "relative");
  assert.equal(p.line_search, "strong_wolfe");
  assert.equal(upscaleStage.params.safeParse({ size: 64, init: "noise" }).success, false);
});

Deno.test(
  "upscale refines the enlarged result: lower start loss than from content",
  opts,
  async () => {
    const { features, content, style, first } = await firstScale();
    const ctx = await makeTestContext({ engine: testEngine, stepId: "up" });
    const out = await runStage(upscaleStage, ctx, {
      image: first,
      features,
      content,
      style: [style],
    }, { factor: 2, iterations: 5 }) as ImageValue;
    assert.equal(out.image.width, 48);
    assert.equal(out.image.height, 36);
    assert.deepEqual(ctx.warnings, []);
    const info = out.info as { initial_loss: number; final_loss: number; size: number[] };
    assert.deepEqual(info.size, [48, 36]);
    assert.ok(info.final_loss < info.initial_loss, `${info.initial_loss} → ${info.final_loss}`);

    // The same targets at 48 px optimized from the content image start far higher: the enlarged
    // result already carries the style.
    const big = imageValue(await exampleImage("tubingen.jpg", 48));
    const direct = await runStage(
      extractFeaturesStage,
      ctx,
      { content: big, style: [style] },
      shallowLayers,
    );
    const fromContent = await runStage(styleTransferStage, ctx, { features: direct }, {
      iterations: 0,
    }) as ImageValue;
    const start = (fromContent.info as { initial_loss: number }).initial_loss;
    assert.ok(
      info.initial_loss * 2 < start,
      `upscale starts at ${info.initial_loss}, content ${start}`,
    );
    await ctx.dispose();
  },
);

Deno.test(
  "upscale without the original images warns that it enlarges the kept copies",
  opts,
  async () => {
    const { features, first } = await firstScale();
    const ctx = await makeTestContext({ engine: testEngine });
    const out = await runStage(upscaleStage, ctx, { image: first, features }, {
      size: 36,
      iterations: 1,
    }) as ImageValue;
    assert.equal(out.image.width, 36);
    assert.equal(ctx.warnings.length, 2);
    assert.match(ctx.warnings[0], /content image kept in the features is 24×18/);
    assert.match(ctx.warnings[1], /style images kept in the features are smaller than the 36 px/);
    await assert.rejects(
      runStage(upscaleStage, ctx, { image: first, features, style: [first, first] }, { factor: 2 }),
      /got 2 style images but the features were extracted from 1/,
    );
    await ctx.dispose();
  },
);

Deno.test("upscale estimate: per engine, grows with the pixels and the iterations", () => {
  const p = upscaleStage.params.parse({ size: 1024, iterations: 80 });
  const at = (size: number, engine: string, iterations = 80) =>
    upscaleStage.estimate!(
      { image: { width: 512, height: 384 } },
      { ...p, size, iterations },
      { engine },
    )!;
  const onnx = at(1024, "onnx");
  const onnx2k = at(2048, "onnx");
  assert.equal(upscaleStage.shape!({ image: { width: 512, height: 384 } }, p)?.height, 768);
  assert.ok(onnx2k.bytes > 3 * onnx.bytes && onnx2k.bytes < 4 * onnx.bytes);
  assert.ok(Math.abs(onnx2k.seconds! / onnx.seconds! - 4) < 0.01);
  // 80 · 1.05 + 3 + 1 evaluations against 180 · 1.05 + 3 + 1 (neural_cost.ts).
  const ratio = (180 * 1.05 + 4) / (80 * 1.05 + 4);
  assert.ok(Math.abs(at(1024, "onnx", 180).seconds! / onnx.seconds! - ratio) < 1e-9);
  assert.ok(at(1024, "cpu").seconds! > onnx.seconds!);
  assert.deepEqual(at(1024, "auto"), onnx);
});
