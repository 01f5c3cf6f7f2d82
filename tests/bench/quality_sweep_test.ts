/** The sweep's comparison of style losses: its settings, and usage errors in our words (exit 2). */
import assert from "node:assert/strict";
import { styleLossConfigs } from "../../src/bench/quality_sweep.ts";
import { styleTransferParams } from "../../src/stages/style_transfer.ts";

Deno.test("styleLossConfigs: the defaults with gram, and with the candidate at its β", () => {
  const [gram, candidate] = styleLossConfigs("mean-covariance", 400);
  assert.equal(gram.name, "gram");
  assert.equal(candidate.name, "mean-covariance β 400");
  const a = styleTransferParams.parse(gram.transfer),
    b = styleTransferParams.parse(candidate.transfer);
  assert.deepEqual([a.style_loss, a.style_weight], ["gram", undefined]);
  assert.deepEqual([b.style_loss, b.style_weight], ["mean-covariance", 400]);
  assert.equal(styleLossConfigs("mean-covariance")[1].name, "mean-covariance");
});

Deno.test("sweep: an unknown --style-loss or a --style-weight without it exits 2", async () => {
  const script = new URL("../../src/bench/quality_sweep.ts", import.meta.url).pathname;
  for (
    const [args, message] of [
      [["--style-loss", "w2"], /--style-loss "w2" is not one of gram, mean-covariance/],
      [["--style-weight", "400"], /--style-weight needs --style-loss/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), message);
  }
});
