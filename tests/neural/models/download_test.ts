import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type DownloadProgress,
  downloadVerified,
  md5File,
} from "../../../src/neural/models/download.ts";
import { WeightsError } from "../../../src/neural/models/weights.ts";

const payload = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
const payloadMd5 = createHash("md5").update(payload).digest("hex");

/** A local server: /file serves the payload in chunks, anything else is 404. */
function serve(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname !== "/file") return new Response("no", { status: 404 });
    return new Response(payload, { headers: { "content-length": String(payload.length) } });
  });
}

Deno.test("downloadVerified streams to disk, checks MD5, reports progress, tries mirrors", async () => {
  const server = serve();
  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-dl-" });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const dest = join(tmp, "w.h5.part");
    const seen: DownloadProgress[] = [];
    const used = await downloadVerified([`${base}/missing`, `${base}/file`], payloadMd5, dest, {
      onProgress: (p) => seen.push(p),
    });
    assert.equal(used, `${base}/file`);
    assert.deepEqual(await Deno.readFile(dest), payload);
    assert.equal(await md5File(dest), payloadMd5);
    assert.deepEqual(seen.at(-1), { received: payload.length, total: payload.length });

    await assert.rejects(
      downloadVerified([`${base}/file`], "0".repeat(32), dest),
      (e: Error) =>
        e instanceof WeightsError && e.message.includes(`MD5 ${payloadMd5}, expected 00000`),
    );
    await assert.rejects(Deno.stat(dest), Deno.errors.NotFound, "a bad download is removed");
    await assert.rejects(
      downloadVerified([`${base}/missing`], payloadMd5, dest),
      (e: Error) => e instanceof WeightsError && e.message.includes("HTTP 404"),
    );
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an unreachable server is a WeightsError naming the URL, not a crash", async () => {
  const server = serve();
  const url = `http://127.0.0.1:${server.addr.port}/file`;
  await server.shutdown();
  const tmp = await Deno.makeTempDir({ prefix: "stylepipe-dl-" });
  try {
    await assert.rejects(
      downloadVerified([url], payloadMd5, join(tmp, "x")),
      (e: Error) => e instanceof WeightsError && e.message.includes(url),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
