import assert from "node:assert/strict";
import { join } from "node:path";
import { weightsCommand, type WeightsCommandIo } from "../../src/cli/weights.ts";
import { loadVggWeights } from "../../src/neural/models/weights.ts";
import { smallVgg, writeKerasH5 } from "../neural/models/_keras_h5.ts";

function recordingIo(): WeightsCommandIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    interactive: false,
  };
}

Deno.test("weights --from imports a local .h5; existing folders need --force", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-cli-weights-" });
  try {
    const h5 = join(tmp, "small.h5");
    const original = smallVgg(11);
    await writeKerasH5(h5, original, "keras2");
    const dir = join(tmp, "weights");

    const io = recordingIo();
    assert.equal(await weightsCommand(["vgg19", "--from", h5, "--dir", dir], io), 0);
    assert.match(io.err.join(""), /importing .*small\.h5 \(MD5 [0-9a-f]{32}, not the published/);
    assert.match(io.out.join(""), /vgg19: vgg19, 2 convolutions \(conv1_1 … conv1_2, partial\)/);
    const loaded = await loadVggWeights([dir], "vgg19");
    assert.deepEqual(loaded.convs.get("conv1_2"), original.get("conv1_2"));

    const again = recordingIo();
    assert.equal(await weightsCommand(["--from", h5, "--dir", dir], again), 1);
    assert.match(again.err.join(""), /holds a partial vgg19 \(conv1_1 … conv1_2\); pass --force/);

    const forced = recordingIo();
    assert.equal(await weightsCommand(["--from", h5, "--dir", dir, "--force"], forced), 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("weights: usage errors exit 2, help exits 0, a bad file exits 1", async () => {
  const help = recordingIo();
  assert.equal(await weightsCommand(["--help"], help), 0);
  assert.match(help.out.join(""), /^Usage: deno task weights/);
  const unknown = recordingIo();
  assert.equal(await weightsCommand(["vgg99"], unknown), 2);
  assert.match(
    unknown.err.join(""),
    /unknown model "vgg99" \(did you mean "vgg19"\?\) \(known: vgg19, vgg16\)/,
  );
  assert.equal(await weightsCommand(["--frm", "x"], recordingIo()), 2);

  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-cli-weights-" });
  try {
    const bad = recordingIo();
    const missing = join(tmp, "missing.h5");
    assert.equal(await weightsCommand(["vgg16", "--from", missing, "--dir", tmp], bad), 1);
    assert.match(bad.err.join(""), /^error: .*missing\.h5/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
