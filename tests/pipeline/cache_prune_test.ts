import assert from "node:assert/strict";
import { join } from "node:path";
import { CacheStore, listCache, LOCK_HEARTBEAT_MS, pruneCache } from "../../src/pipeline/cache.ts";
import { createImage } from "../../src/image/image.ts";
import { parseDuration, parseSize } from "../../src/cli/cache.ts";

const HOUR = 3600_000;

/** A cache with entries a…e (e the newest), each used `age` hours ago, and checkpoints for c. */
async function filledCache(dir: string): Promise<CacheStore> {
  const cache = new CacheStore(dir);
  const keys = ["a", "b", "c", "d", "e"].map((k) => k.repeat(64));
  for (const [i, key] of keys.entries()) {
    await cache.put(key, { kind: "image", image: createImage(10, 10, i / 10) });
    const used = new Date(Date.now() - (10 - 2 * i) * HOUR); // a: 10 h ago … e: 2 h ago
    await Deno.utime(cache.entryPath(key), used, used);
  }
  await cache.checkpoints(keys[2]).put("state", new Uint8Array(100));
  const old = new Date(Date.now() - 9 * HOUR);
  await Deno.utime(join(dir, "checkpoints", keys[2], "state"), old, old);
  return cache;
}

Deno.test("cache list: entries and checkpoints, least recently used first, with sizes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await filledCache(dir);
    const items = await listCache(dir);
    assert.deepEqual(items.map((i) => `${i.key[0]}:${i.kind}`), [
      "a:entry",
      "c:checkpoints",
      "b:entry",
      "c:entry",
      "d:entry",
      "e:entry",
    ]);
    assert.ok(items.every((i) => i.bytes > 0));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache prune by age and size never removes what a running render has locked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = await filledCache(dir);
    const release = await cache.lock(["b".repeat(64)]); // this process: alive
    // a lock whose heartbeat stopped (its process is gone) protects nothing and is cleaned up
    await Deno.mkdir(join(dir, "locks"), { recursive: true });
    const dead = join(dir, "locks", "dead.json");
    await Deno.writeTextFile(dead, JSON.stringify({ pid: 2 ** 30, keys: ["a".repeat(64)] }));
    const stopped = new Date(Date.now() - 10 * LOCK_HEARTBEAT_MS);
    await Deno.utime(dead, stopped, stopped);

    const dry = await pruneCache(dir, { olderThanMs: 5 * HOUR, dryRun: true });
    assert.deepEqual(dry.removed.map((i) => i.key[0]).sort(), ["a", "c", "c"]);
    assert.equal((await listCache(dir)).length, 6, "dry run removes nothing");

    const aged = await pruneCache(dir, { olderThanMs: 5 * HOUR });
    assert.deepEqual(aged.removed.map((i) => i.key[0]).sort(), ["a", "c", "c"]);
    assert.equal(aged.locked, 1);
    assert.deepEqual((await listCache(dir)).map((i) => i.key[0]), ["b", "d", "e"]);
    assert.deepEqual([...Deno.readDirSync(join(dir, "locks"))].length, 1, "stale lock removed");

    // size: drop least recently used until it fits, skipping the locked one
    const entry = (await listCache(dir))[0].bytes;
    const sized = await pruneCache(dir, { maxBytes: entry });
    assert.deepEqual(sized.removed.map((i) => i.key[0]), ["d", "e"]);
    assert.deepEqual((await listCache(dir)).map((i) => i.key[0]), ["b"]);

    await release();
    const all = await pruneCache(dir, { maxBytes: 0 });
    assert.deepEqual(all.removed.map((i) => i.key[0]), ["b"]);
    assert.equal((await cache.get("b".repeat(64))).status, "miss");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an entry used within the last minute is kept even without a lock", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cache = new CacheStore(dir);
    await cache.put("f".repeat(64), { kind: "image", image: createImage(2, 2) });
    const r = await pruneCache(dir, { olderThanMs: 0, maxBytes: 0 });
    assert.equal(r.removed.length, 0);
    // reading an entry marks it used
    const old = new Date(Date.now() - 2 * HOUR);
    await Deno.utime(cache.entryPath("f".repeat(64)), old, old);
    assert.equal((await cache.get("f".repeat(64))).status, "hit");
    assert.ok((await listCache(dir))[0].used.getTime() > Date.now() - 60_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("durations and sizes for the cache command", () => {
  assert.equal(parseDuration("7d"), 7 * 24 * HOUR);
  assert.equal(parseDuration("30m"), 30 * 60_000);
  assert.equal(parseSize("500MB"), 500e6);
  assert.equal(parseSize("1GiB"), 1024 ** 3);
  assert.equal(parseSize("1234"), 1234);
  assert.throws(() => parseDuration("7 days"));
  assert.throws(() => parseSize("lots"));
});
