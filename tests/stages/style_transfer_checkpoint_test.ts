import assert from "node:assert/strict";
import { extractFeaturesStage } from "../../src/stages/extract_features.ts";
import type { ImageValue, Value } from "../../src/stages/stage.ts";
import { styleTransferStage } from "../../src/stages/style_transfer.ts";
import { imageValue, makeTestContext, runStage, type TestContext } from "./_context.ts";
import { exampleImage, shallowLayers, testEngine } from "./_neural.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const PARAMS = { optimizer: "adam", iterations: 12, keep_best: true, checkpoint_every: 4 };

let features: Promise<Value> | undefined;
function targets(): Promise<Value> {
  features ??= (async () => {
    const ctx = await makeTestContext({ engine: testEngine });
    const content = imageValue(await exampleImage("tubingen.jpg", 24));
    const style = imageValue(await exampleImage("starry_night.jpg", 24));
    return await runStage(extractFeaturesStage, ctx, { content, style: [style] }, shallowLayers);
  })();
  return features;
}

/** Runs the stage in `dir`; `stopAt` aborts (like SIGTERM) once that iteration is reported. */
async function transfer(
  dir: string,
  stopAt?: number,
  params: Record<string, unknown> = PARAMS,
): Promise<{ ctx: TestContext; out?: ImageValue }> {
  const stop = new AbortController();
  const ctx = await makeTestContext({ engine: testEngine, dir, signal: stop.signal });
  const report = ctx.progress;
  Object.assign(ctx, {
    progress: (p: { iteration?: number }) => {
      report(p);
      if (p.iteration === stopAt) stop.abort(new Error("stopped by test"));
    },
  });
  try {
    const out = await runStage(styleTransferStage, ctx, { features: await targets() }, params);
    return { ctx, out: out as ImageValue };
  } catch (e) {
    if (stopAt === undefined) throw e;
    return { ctx };
  }
}

Deno.test(
  "adam + keep_best: stopped at 6, resumed from its checkpoint, same image and info",
  opts,
  async () => {
    const [a, b] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    try {
      const reference = (await transfer(a)).out!;
      const stopped = await transfer(b, 6);
      assert.equal(stopped.out, undefined);
      assert.deepEqual(stopped.ctx.notes, [
        "cancelled at 6/12; checkpoint at iteration 6 kept, run the same command to resume",
      ]);
      const resumed = await transfer(b);
      assert.deepEqual(resumed.ctx.notes, ["resumed from iteration 6 (checkpoint)"]);
      assert.deepEqual(resumed.ctx.progressReports[0], {
        iteration: 6,
        total: 12,
        message: "resumed",
      });
      assert.deepEqual(resumed.out!.image.data, reference.image.data);
      assert.deepEqual(resumed.out!.info, reference.info);
      // Finished: the checkpoint is gone.
      assert.equal(await resumed.ctx.checkpoints.get("style-transfer"), undefined);
    } finally {
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    }
  },
);

Deno.test(
  "lbfgs + strong Wolfe (the default): stopped at 6, its checkpoint is at 6 and the resume is identical",
  opts,
  async () => {
    const params = { iterations: 10, checkpoint_every: 4 };
    const [a, b] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    try {
      const reference = (await transfer(a, undefined, params)).out!;
      const stopped = await transfer(b, 6, params);
      assert.deepEqual(stopped.ctx.notes, [
        "cancelled at 6/10; checkpoint at iteration 6 kept, run the same command to resume",
      ]);
      const resumed = await transfer(b, undefined, params);
      assert.deepEqual(resumed.ctx.notes, ["resumed from iteration 6 (checkpoint)"]);
      assert.deepEqual(resumed.out!.image.data, reference.image.data);
    } finally {
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    }
  },
);

Deno.test("a damaged checkpoint is reported and the run starts over", opts, async () => {
  const [a, b] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const reference = (await transfer(a)).out!;
    const stopped = await transfer(b, 5); // checkpoint at 4 (periodic) then 5 (abort)
    const bytes = (await stopped.ctx.checkpoints.get("style-transfer"))!;
    const damaged = bytes.slice();
    damaged[damaged.length - 3] ^= 0xff;
    await stopped.ctx.checkpoints.put("style-transfer", damaged); // valid store, bad payload
    const again = await transfer(b);
    assert.match(again.ctx.warnings.join("\n"), /ignoring an unreadable checkpoint/);
    assert.notEqual(again.ctx.progressReports[0].message, "resumed");
    assert.deepEqual(again.out!.image.data, reference.image.data);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test(
  "adam + ema + tolerance: stopped at 6, resumed, same average, same stop, same info",
  opts,
  async () => {
    // Adam's loss on this 24 px pair falls by less than 10 % per 10 iterations from iteration 52.
    const params = {
      optimizer: "adam",
      iterations: 60,
      ema: 0.9,
      tolerance: 0.1,
      checkpoint_every: 4,
    };
    const [a, b] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    try {
      const reference = (await transfer(a, undefined, params)).out!;
      const info = reference.info as Record<string, number | string>;
      assert.equal(info.stop_reason, "tolerance");
      assert.equal(info.iterations, 52);
      assert.equal(info.ema, 0.9);
      assert.notEqual(info.final_loss, info.last_iterate_loss);
      assert.equal(info.evaluations, (info.iterations as number) + 2); // start, iterations, average
      await transfer(b, 6, params);
      const resumed = await transfer(b, undefined, params);
      assert.deepEqual(resumed.ctx.notes, ["resumed from iteration 6 (checkpoint)"]);
      assert.deepEqual(resumed.out!.image.data, reference.image.data);
      assert.deepEqual(resumed.out!.info, reference.info);
    } finally {
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    }
  },
);

Deno.test(
  "keep_best with ema > 0 is refused (both choose the returned image); keep_best alone averages nothing",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await assert.rejects(
        transfer(dir, undefined, { optimizer: "adam", iterations: 2, keep_best: true, ema: 0.5 }),
        /keep_best and ema both choose the returned image/,
      );
      const out =
        (await transfer(dir, undefined, { optimizer: "adam", iterations: 2, keep_best: true }))
          .out!;
      assert.equal((out.info as Record<string, unknown>).ema, undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
