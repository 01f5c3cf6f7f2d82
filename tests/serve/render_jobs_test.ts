/** Renders started from the page run in their own process: cancelling one ends it, writing nothing. */
import assert from "node:assert/strict";
import { startStudio } from "./_studio.ts";

Deno.test({
  name: "render jobs: a cancelled render ends as cancelled, logged, with no output",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startStudio();
    try {
      const { jobs } = server;
      const job = await jobs.start(
        `${server.folders.recipesDir}/conv3.yaml`,
        "conv3.yaml",
        ["size=32", "iterations=500", "engine=onnx"],
      );
      const queued = await jobs.start(`${server.folders.recipesDir}/conv3.yaml`, "conv3.yaml", [
        "size=16",
      ]);
      const seen: string[] = [];
      const end = Date.now() + 60_000;
      while (!jobs.get(job.id)?.progress?.iteration) {
        if (Date.now() > end) throw new Error("the render did not start iterating");
        await new Promise((r) => setTimeout(r, 50));
      }
      jobs.subscribe(job.id, (u) => u.type === "job" && seen.push(u.job.status));
      assert.ok(jobs.cancel(queued.id));
      assert.ok(jobs.cancel(job.id));
      assert.equal(jobs.cancel("r99"), false);
      await jobs.idle();
      assert.equal(jobs.get(job.id)?.status, "cancelled");
      assert.equal(jobs.get(queued.id)?.status, "cancelled");
      assert.equal(seen.at(-1), "cancelled");
      assert.ok(jobs.get(job.id)!.progress!.iteration! < 500);
      assert.deepEqual([...Deno.readDirSync(server.folders.outDir)], [], "nothing written");
      assert.equal(
        server.log[0],
        "render r1 started: conv3.yaml size=32 iterations=500 engine=onnx",
      );
      assert.match(server.log[1], /^render r1 cancelled after \d+\.\d s: .*cancelled/);
      assert.equal(server.log[2], "render r2 cancelled: cancelled before it started");
    } finally {
      await server.stop();
    }
  },
});
