import assert from "node:assert/strict";
import { join } from "node:path";
import { CacheStore } from "../../src/pipeline/cache.ts";
import {
  CorruptEntryError,
  decodeValue,
  encodeValue,
  UnserializableValueError,
} from "../../src/pipeline/serialize.ts";
import type { Value } from "../../src/stages/stage.ts";

const image: Value = {
  kind: "image",
  image: { width: 2, height: 1, data: new Float32Array([0.1, 0.2, 0.3, 1e-8, -0, 7.5]) },
  info: { note: "x" },
};

Deno.test("image and features values round-trip bit-exactly", () => {
  assert.deepEqual(decodeValue(encodeValue(image)), image);
  const features: Value = {
    kind: "features",
    features: {
      model: "vgg19",
      weightsId: "synthetic:1",
      pooling: "avg",
      width: 2,
      height: 1,
      content: [{ layer: "relu4_2", weight: 1, activations: new Float32Array([1, 2, 3]) }],
      style: [{
        layer: "relu1_1",
        weight: 0.2,
        gram: new Float32Array([Math.PI]),
        mask: new Float32Array([0, 1]),
      }],
      contentImage: { width: 1, height: 1, data: new Float32Array([0.5, 0.25, 0.125]) },
      styleImages: [],
      recipe: { layers: ["relu1_1"] },
    },
  };
  const back = decodeValue(encodeValue(features));
  assert.deepEqual(back, features);
  assert.equal(back.kind === "features" && back.features.style[0].gram[0], Math.fround(Math.PI));
});

Deno.test("any changed byte, truncation or foreign data is rejected", () => {
  const bytes = encodeValue(image);
  for (const i of [0, 5, 12, bytes.length - 30, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[i] ^= 1;
    assert.throws(() => decodeValue(bad), CorruptEntryError, `byte ${i}`);
  }
  assert.throws(() => decodeValue(bytes.subarray(0, bytes.length - 1)), CorruptEntryError);
  assert.throws(() => decodeValue(new Uint8Array(10)), CorruptEntryError);
});

Deno.test("values the cache cannot hold are refused explicitly", () => {
  const v = {
    kind: "image",
    image: image.kind === "image" && image.image,
    info: { m: new Uint8Array(2) },
  };
  assert.throws(() => encodeValue(v as Value), UnserializableValueError);
});

Deno.test("file values are valid only while the file keeps its hash", async () => {
  const dir = await Deno.makeTempDir();
  const cache = new CacheStore(join(dir, "cache"));
  const path = join(dir, "out.txt");
  await Deno.writeTextFile(path, "hello");
  const sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  await cache.put("k1", { kind: "file", path, sha256 });
  assert.equal((await cache.get("k1")).status, "hit");
  await Deno.writeTextFile(path, "changed");
  assert.equal((await cache.get("k1")).status, "stale");
  await Deno.remove(path);
  assert.equal((await cache.get("k1")).status, "stale");
  assert.equal((await cache.get("nope")).status, "miss");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoints: stored per key, verified, cleared", async () => {
  const dir = await Deno.makeTempDir();
  const cache = new CacheStore(dir);
  const a = cache.checkpoints("a");
  await a.put("state", new Uint8Array([1, 2, 3]));
  assert.deepEqual(await a.get("state"), new Uint8Array([1, 2, 3]));
  assert.equal(await cache.checkpoints("b").get("state"), undefined);
  const file = join(dir, "checkpoints", "a", "state");
  const bytes = await Deno.readFile(file);
  bytes[0] ^= 1;
  await Deno.writeFile(file, bytes);
  assert.equal(await a.get("state"), undefined, "a damaged checkpoint reads as absent");
  await a.clear();
  await assert.rejects(Deno.stat(join(dir, "checkpoints", "a")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a non-finite number in a value's info is stored as null, as JSON does", () => {
  const value: Value = { ...image, info: { final_loss: NaN, ok: 1 } };
  const back = decodeValue(encodeValue(value));
  assert.deepEqual(back.info, { final_loss: null, ok: 1 });
});
