import assert from "node:assert/strict";
import { stepFlops } from "../../src/bench/workload.ts";
import { benchCommand } from "../../src/cli/bench.ts";

Deno.test("stepFlops: forward + input-gradient conv FLOPs of W (94.7 GFLOP at 256²)", () => {
  assert.equal(stepFlops(256, 256), 94_673_829_888);
  assert.equal(stepFlops(512, 512), 4 * 94_673_829_888);
  // 255 floors through the pools: 127, 63, 31, 15.
  assert.equal(stepFlops(255, 255), 90_947_181_312);
});

Deno.test("bench rejects an unknown engine and a bad size with exit code 2", async () => {
  assert.equal(await benchCommand(["--engine", "nope"]), 2);
  assert.equal(await benchCommand(["--sizes", "128,x"]), 2);
});
