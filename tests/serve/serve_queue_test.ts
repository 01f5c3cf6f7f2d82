/** serve --queue: the page shows the render farm's queue (real redis-server, real Chromium). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { snapshot } from "../../src/farm/inspect.ts";
import { submitRecipe } from "../../src/farm/submit.ts";
import { loadRecipe } from "../../src/recipe/load.ts";
import { RenderJobs } from "../../src/serve/render_jobs.ts";
import { serveHandler } from "../../src/serve/server.ts";
import { testQueue } from "../farm/_farm.ts";
import { hasRedis, NO_REDIS, TestRedis } from "../farm/_redis.ts";
import { repoRoot, testImagesDir } from "../stages/_context.ts";
import { findChromium, openPage } from "../../src/bench/chromium.ts";

const chromium = findChromium();
if (!hasRedis) console.warn(`serve --queue test: ${NO_REDIS}`);
if (!chromium) console.warn("serve --queue test skipped: no Chromium (apt-get install chromium)");

Deno.test({
  name: "serve --queue: a submitted job appears on the page; without a queue /api/queue is 404",
  ignore: !hasRedis || !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const redis = await TestRedis.start();
    const farm = testQueue(redis.url);
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-serve-queue-" });
    const controller = new AbortController();
    try {
      const file = join(repoRoot, "pipelines/photo-basics.yaml");
      const recipe = await loadRecipe(file, { sets: ["size=16"] });
      const [job] = await submitRecipe(farm.queue, recipe, {
        recipe: file,
        sets: ["size=16"],
        imageDirs: [testImagesDir()],
        outDir: join(dir, "out"),
      });
      const jobs = new RenderJobs({
        outDir: join(dir, "out"),
        cache: null,
        previewEvery: 5,
        load: (f, sets) => loadRecipe(f, { sets }),
      });
      const options = { jobs, recipesDir: join(repoRoot, "pipelines"), outDir: join(dir, "out") };
      const without = await serveHandler(options)(new Request("http://x/api/queue"));
      assert.equal(without.status, 404);
      await without.body?.cancel();

      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen: () => {} },
        serveHandler({ ...options, queueSnapshot: () => snapshot(farm.queue) }),
      );
      const page = await openPage(chromium!, `http://127.0.0.1:${server.addr.port}/`);
      try {
        const end = Date.now() + 30_000;
        let rows: string[] = [];
        while (Date.now() < end) {
          rows = await page.evaluate<string[]>(
            `[...document.querySelectorAll("#farm-jobs tr")].map((r) => r.textContent)`,
          );
          if (rows.length) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(rows.length, 1, "one job listed");
        assert.match(rows[0], new RegExp(`^${job.id.slice(0, 12)}waitingphoto-basics\\.yaml`));
        assert.match(
          await page.evaluate<string>(`document.getElementById("farm-counts").textContent`),
          /waiting 1/,
        );
      } finally {
        await page.close();
        controller.abort();
        await server.finished;
      }
    } finally {
      await farm.close();
      await redis.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
