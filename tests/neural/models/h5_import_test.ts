import assert from "node:assert/strict";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { importKerasH5, readKerasVggH5 } from "../../../src/neural/models/h5_import.ts";
import { loadVggWeights, WeightsError } from "../../../src/neural/models/weights.ts";
import { smallVgg, writeKerasH5 } from "./_keras_h5.ts";

for (const layout of ["keras2", "keras1"] as const) {
  Deno.test(`h5 (${layout} layout) → tfjs folder → loadVggWeights round trip`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "stylepipe-h5-" });
    try {
      const original = smallVgg(layout === "keras2" ? 1 : 2);
      const h5 = join(tmp, "small.h5");
      await writeKerasH5(h5, original, layout);
      // 64 KiB shards: conv1_2's 147,712 bytes span three shards.
      const result = await importKerasH5(h5, join(tmp, "weights", "vgg19"), {
        expected: "vgg19",
        shardBytes: 64 * 1024,
      });
      assert.equal(result.arch, "vgg19");
      assert.deepEqual(result.convs, ["conv1_1", "conv1_2"]);
      assert.deepEqual(result.files, [
        "model.json",
        "group1-shard1of1",
        "group2-shard1of3",
        "group2-shard2of3",
        "group2-shard3of3",
        "README.md",
        "SHA256SUMS",
      ]);
      const loaded = await loadVggWeights([join(tmp, "weights")], "vgg19");
      assert.equal(loaded.arch, "vgg19");
      assert.deepEqual(loaded.convs, original);
      const staged = [...Deno.readDirSync(join(tmp, "weights"))].map((e) => e.name);
      assert.deepEqual(staged, ["vgg19"], "no temporary folder left behind");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("importing into an existing folder needs force, and force replaces it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-h5-" });
  try {
    const h5a = join(tmp, "a.h5"), h5b = join(tmp, "b.h5");
    await writeKerasH5(h5a, smallVgg(3), "keras2");
    const second = smallVgg(4);
    await writeKerasH5(h5b, second, "keras2");
    const target = join(tmp, "w", "vgg19");
    await importKerasH5(h5a, target);
    await assert.rejects(
      importKerasH5(h5b, target),
      (e: Error) => e instanceof WeightsError && e.message.includes("--force"),
    );
    await importKerasH5(h5b, target, { force: true });
    const loaded = await loadVggWeights([join(tmp, "w")], "vgg19");
    assert.deepEqual(loaded.convs.get("conv1_2"), second.get("conv1_2"));
    assert.deepEqual([...Deno.readDirSync(join(tmp, "w"))].map((e) => e.name), ["vgg19"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("h5 import rejects non-HDF5 files, gaps and wrong shapes with clear messages", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-h5-" });
  try {
    const text = join(tmp, "not.h5");
    await Deno.writeTextFile(text, "hello");
    await assert.rejects(
      readKerasVggH5(text),
      (e: Error) => e instanceof WeightsError && e.message.startsWith(`cannot open ${text}`),
    );
    await assert.rejects(readKerasVggH5(join(tmp, "absent.h5")), WeightsError);

    const gap = smallVgg(5);
    gap.delete("conv1_1");
    const gapPath = join(tmp, "gap.h5");
    await writeKerasH5(gapPath, gap, "keras1");
    await assert.rejects(
      readKerasVggH5(gapPath),
      (e: Error) => e instanceof WeightsError && e.message.includes("not the leading convolutions"),
    );

    await h5wasm.ready;
    const badPath = join(tmp, "bad.h5");
    const file = new h5wasm.File(badPath, "w");
    const group = file.create_group("block1_conv1");
    group.create_dataset({
      name: "kernel:0",
      data: new Float32Array(64 * 3 * 9),
      shape: [64, 3, 3, 3],
      dtype: "<f",
    });
    group.create_dataset({ name: "bias:0", data: new Float32Array(64), shape: [64], dtype: "<f" });
    file.close();
    await assert.rejects(
      readKerasVggH5(badPath),
      (e: Error) => e instanceof WeightsError && e.message.includes("channels-first"),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
