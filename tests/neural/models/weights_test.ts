import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../../../src/util/hash.ts";
import {
  availableConvs,
  findModelDir,
  loadVggWeights,
  requireLayers,
  WeightsError,
  weightsSearchDirs,
} from "../../../src/neural/models/weights.ts";
import { testWeightsDirs } from "../../stages/_context.ts";

const dirs = testWeightsDirs();

/** A writable copy of the shared partial vgg19 folder in a fresh temporary weights folder. */
async function copyShared(): Promise<{ root: string; model: string }> {
  const root = await Deno.makeTempDir({ prefix: "stylepipe-weights-" });
  const model = join(root, "vgg19");
  await Deno.mkdir(model);
  const source = await findModelDir(dirs, "vgg19");
  for await (const e of Deno.readDir(source)) {
    await Deno.copyFile(join(source, e.name), join(model, e.name));
  }
  return { root, model };
}

Deno.test("loads the shared partial VGG19: 8 convs, real values, verified id", async () => {
  const w = await loadVggWeights(dirs, "vgg19");
  assert.equal(w.arch, "vgg19");
  assert.deepEqual([...w.convs.keys()], [
    "conv1_1",
    "conv1_2",
    "conv2_1",
    "conv2_2",
    "conv3_1",
    "conv3_2",
    "conv3_3",
    "conv3_4",
  ]);
  const conv11 = w.convs.get("conv1_1")!;
  assert.ok(Math.abs(conv11.bias[0] - 0.730) < 1e-3, `bias[0] = ${conv11.bias[0]}`);
  assert.equal(conv11.kernel.length, 3 * 3 * 3 * 64);
  assert.equal(w.convs.get("conv3_4")!.kernel.length, 3 * 3 * 256 * 256);
  const sums = await Deno.readTextFile(join(await findModelDir(dirs, "vgg19"), "SHA256SUMS"));
  assert.equal(w.id, sha256Hex(sums));
  assert.equal(await loadVggWeights(dirs, "vgg19"), w, "second load comes from the cache");
});

Deno.test("findModelDir tries folders in order and names where it looked", async () => {
  const { root } = await copyShared();
  try {
    assert.equal(await findModelDir([root, ...dirs], "vgg19"), join(root, "vgg19"));
    await assert.rejects(
      findModelDir([root, "no-such-weights"], "vgg16"),
      (e: Error) =>
        e instanceof WeightsError && e.message.includes(join(root, "vgg16")) &&
        e.message.includes(join("no-such-weights", "vgg16")) &&
        e.message.includes('"deno task weights vgg16"'),
    );
    await assert.rejects(findModelDir([root], "../etc"), WeightsError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a tampered shard or model.json is rejected, naming the file", async () => {
  const { root, model } = await copyShared();
  try {
    const shard = join(model, "group3-shard1of1");
    const bytes = await Deno.readFile(shard);
    bytes[100] ^= 1;
    await Deno.writeFile(shard, bytes);
    await assert.rejects(
      loadVggWeights([root], "vgg19"),
      (e: Error) =>
        e instanceof WeightsError &&
        e.message.startsWith(`${shard} does not match its SHA-256`),
    );
    const modelJson = join(model, "model.json");
    await Deno.writeTextFile(modelJson, (await Deno.readTextFile(modelJson)) + " ");
    await assert.rejects(
      loadVggWeights([root], "vgg19"),
      (e: Error) =>
        e instanceof WeightsError && e.message.startsWith(`${modelJson} does not match`),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("missing SHA256SUMS is an error unless unverified weights are allowed", async () => {
  const { root, model } = await copyShared();
  try {
    await Deno.remove(join(model, "SHA256SUMS"));
    await assert.rejects(
      loadVggWeights([root], "vgg19"),
      (e: Error) => e instanceof WeightsError && e.message.includes("SHA256SUMS is missing"),
    );
    const w = await loadVggWeights([root], "vgg19", { allowUnverified: true });
    const verified = await loadVggWeights(dirs, "vgg19");
    assert.deepEqual(w.convs.get("conv3_4")!.kernel, verified.convs.get("conv3_4")!.kernel);
    assert.match(w.id, /^[0-9a-f]{64}$/);
    assert.notEqual(w.id, verified.id);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a shard not listed in SHA256SUMS is rejected", async () => {
  const { root, model } = await copyShared();
  try {
    const sumsPath = join(model, "SHA256SUMS");
    const sums = (await Deno.readTextFile(sumsPath)).split("\n")
      .filter((l) => !l.endsWith("group8-shard1of1")).join("\n");
    await Deno.writeTextFile(sumsPath, sums);
    await assert.rejects(
      loadVggWeights([root], "vgg19"),
      (e: Error) =>
        e instanceof WeightsError &&
        e.message === `${join(model, "group8-shard1of1")} is not listed in ${sumsPath}`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("availableConvs and requireLayers: absent layer names itself and the deepest one", async () => {
  const available = await availableConvs(dirs, "vgg19");
  assert.equal(available.arch, "vgg19");
  assert.equal(available.convs.length, 8);
  assert.equal(requireLayers(available, ["relu1_1", "conv3_4", "pool3", "relu2_1"]), undefined);
  assert.equal(
    requireLayers(available, ["relu1_1", "conv4_2"]),
    `layer "conv4_2" is not in the vgg19 weights found in ${available.dir} (they stop at conv3_4; ` +
      `relu3_4 is the deepest usable layer). Run "deno task weights vgg19" to download the full set.`,
  );
  assert.match(requireLayers(available, ["pool4"])!, /^layer "pool4" is not in the vgg19 weights/);
  assert.equal(
    requireLayers(available, ["relu6_1"]),
    `layer "relu6_1" is not a vgg19 layer (names are conv1_1 … conv5_4, relu1_1 … relu5_4, ` +
      `pool1 … pool5)`,
  );
});

Deno.test("weightsSearchDirs: $STYLEPIPE_WEIGHTS first, then ./weights", () => {
  const saved = Deno.env.get("STYLEPIPE_WEIGHTS");
  try {
    Deno.env.set("STYLEPIPE_WEIGHTS", "/data/w");
    assert.deepEqual(weightsSearchDirs(), ["/data/w", "weights"]);
    Deno.env.delete("STYLEPIPE_WEIGHTS");
    assert.deepEqual(weightsSearchDirs(), ["weights"]);
  } finally {
    if (saved === undefined) Deno.env.delete("STYLEPIPE_WEIGHTS");
    else Deno.env.set("STYLEPIPE_WEIGHTS", saved);
  }
});
