import assert from "node:assert/strict";
import { convLayers, type VggArch } from "../../../src/neural/models/layers.ts";
import {
  convWeightsFrom,
  decodeGroup,
  encodeConvGroup,
  layersModelJson,
  parseLayersModel,
  type WeightGroup,
} from "../../../src/neural/models/tfjs_layers_model.ts";
import { WeightsError } from "../../../src/neural/models/weights.ts";
import { syntheticVggWeights } from "../../../src/neural/models/synthetic.ts";

/** model.json (as an object) and shards for the first `count` synthetic convs of `arch`. */
function encoded(arch: VggArch, count: number, shardBytes?: number) {
  const weights = syntheticVggWeights(arch, 1, convLayers(arch)[count - 1].name);
  const groups: WeightGroup[] = [];
  const shards = new Map<string, Uint8Array>();
  convLayers(arch).slice(0, count).forEach((layer, i) => {
    const e = encodeConvGroup(i + 1, layer, weights.convs.get(layer.name)!, shardBytes);
    groups.push(e.group);
    for (const s of e.shards) shards.set(s.path, s.bytes);
  });
  const json = JSON.parse(layersModelJson(arch, count, groups, "test"));
  return { weights, json, shards };
}

function decodeAll(json: unknown, shards: Map<string, Uint8Array>, hint = "") {
  const model = parseLayersModel(json, "model.json", hint);
  const wanted = new Set(model.convs.flatMap((c) => [c.kernel, c.bias]));
  const tensors = new Map<string, Float32Array>();
  for (const g of model.groups) {
    const parts = g.paths.map((p) => shards.get(p)!);
    for (const [k, v] of decodeGroup(g, parts, wanted, "model.json")) tensors.set(k, v);
  }
  return { model, convs: convWeightsFrom(model, tensors) };
}

const rejects = (fn: () => unknown, fragment: string) =>
  assert.throws(fn, (e: Error) => e instanceof WeightsError && e.message.includes(fragment));

Deno.test("encode → parse → decode reproduces the weights across many small shards", () => {
  const { weights, json, shards } = encoded("vgg19", 3, 10_000);
  assert.equal(json.weightsManifest[1].paths.length, 15); // 147,712 bytes in 10 kB shards
  const { model, convs } = decodeAll(json, shards);
  assert.equal(model.arch, "vgg19");
  assert.deepEqual(convs, new Map([...weights.convs]));
});

Deno.test("architecture: VGG16 from its block3 pool or from the name, VGG19 otherwise", () => {
  assert.equal(parseLayersModel(encoded("vgg16", 8).json, "m").arch, "vgg16"); // has block4_conv1
  const seven = encoded("vgg16", 7).json; // conv1_1 … conv3_3 fits both architectures
  assert.equal(parseLayersModel(seven, "m").arch, "vgg16", "named vgg16 by the writer");
  seven.modelTopology.model_config.config.name = "vgg";
  assert.equal(parseLayersModel(seven, "m").arch, "vgg19");
  const layers = seven.modelTopology.model_config.config.layers;
  layers.push({ name: "block3_pool", class_name: "MaxPooling2D", config: {} });
  assert.equal(parseLayersModel(seven, "m").arch, "vgg16");
  const short = encoded("vgg19", 4);
  assert.equal(parseLayersModel(short.json, "m").arch, "vgg19");
  short.json.modelTopology.model_config.config.name = "my_vgg16";
  assert.equal(parseLayersModel(short.json, "m").arch, "vgg16");
  assert.equal(parseLayersModel(encoded("vgg19", 4).json, "m", "vgg16").arch, "vgg16");
});

Deno.test("non-prefix layer lists and wrong kernel shapes are rejected", () => {
  const { json } = encoded("vgg19", 3);
  const layers = json.modelTopology.model_config.config.layers;
  layers.splice(1, 1); // drop block1_conv1
  rejects(() => parseLayersModel(json, "m"), "layer 1 is block1_conv2, expected block1_conv1");

  const bad = encoded("vgg19", 2).json;
  bad.weightsManifest[1].weights[0].shape = [3, 3, 64, 32];
  rejects(() => parseLayersModel(bad, "m"), "vgg19 conv1_2 needs [3,3,64,64]");
  const escape = encoded("vgg19", 1).json;
  escape.weightsManifest[0].paths = ["../secret"];
  rejects(() => parseLayersModel(escape, "m"), "leaves the model folder");
  rejects(() => parseLayersModel({ modelTopology: {} }, "m"), "not a TensorFlow.js layers-model");
});

Deno.test("uint8 and float16 quantization decode; other quantizations are refused", () => {
  const { json, shards } = encoded("vgg19", 1);
  const group = json.weightsManifest[0];
  // Re-store conv1_1 as uint8 (kernel) and float16 (bias) by hand.
  const kernelQ = new Uint8Array(1728).map((_, i) => i % 256);
  const half = new Uint8Array(128);
  const view = new DataView(half.buffer);
  for (let i = 0; i < 64; i++) view.setUint16(2 * i, i % 2 ? 0x3c00 : 0xc100, true); // 1, -2.5
  shards.set(group.paths[0], new Uint8Array([...kernelQ, ...half]));
  group.weights[0].quantization = { dtype: "uint8", scale: 0.5, min: -3 };
  group.weights[1].quantization = { dtype: "float16" };
  const conv = decodeAll(json, shards).convs.get("conv1_1")!;
  assert.equal(conv.kernel[0], -3);
  assert.equal(conv.kernel[255], 255 * 0.5 - 3);
  assert.equal(conv.kernel[256], -3);
  assert.deepEqual([...conv.bias.slice(0, 3)], [-2.5, 1, -2.5]);

  group.weights[0].quantization = { dtype: "int4" };
  rejects(
    () => parseLayersModel(json, "m"),
    "block1_conv1/kernel uses int4 quantization, which stylepipe cannot read",
  );
});

Deno.test("shards shorter or longer than the manifest are errors", () => {
  const { json, shards } = encoded("vgg19", 1);
  const path = json.weightsManifest[0].paths[0];
  const full = shards.get(path)!;
  shards.set(path, full.subarray(0, full.length - 4));
  assert.throws(() => decodeAll(json, shards), /manifest needs more/);
  shards.set(path, new Uint8Array([...full, 0, 0, 0, 0]));
  assert.throws(() => decodeAll(json, shards), /the manifest describes 7168/);
});
