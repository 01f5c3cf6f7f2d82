/**
 * serve --queue: the page shows the render farm's queue and submits the edited recipe to it (real
 * redis-server, real Chromium); without a queue /api/queue is 404.
 */
import assert from "node:assert/strict";
import { studioFarm } from "../../src/cli/serve.ts";
import { findChromium, openPage } from "../../src/bench/chromium.ts";
import { testQueue } from "../farm/_farm.ts";
import { hasRedis, NO_REDIS, TestRedis } from "../farm/_redis.ts";
import { startStudio } from "./_studio.ts";

const chromium = findChromium();
if (!hasRedis) console.warn(`serve --queue test: ${NO_REDIS}`);
if (!chromium) console.warn("serve --queue test skipped: no Chromium (apt-get install chromium)");

Deno.test("serve without --queue: /api/queue is 404", async () => {
  const server = await startStudio();
  try {
    const r = await fetch(server.url + "api/queue");
    assert.equal(r.status, 404);
    assert.match((await r.json()).error, /serve --queue URL/);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "serve --queue: the edited recipe submitted from the page appears in the queue",
  ignore: !hasRedis || !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const redis = await TestRedis.start();
    const farm = testQueue(redis.url);
    let server;
    try {
      const dir = await Deno.makeTempDir({ prefix: "stylepipe-serve-queue-" });
      server = await startStudio({ farm: studioFarm(farm, dir) });
      const page = await openPage(chromium!, server.url);
      try {
        const end = Date.now() + 30_000;
        while (!(await page.evaluate(`document.body?.dataset.queue === "shown"`))) {
          if (Date.now() > end) throw new Error("the farm section was not shown");
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(await page.evaluate(`document.getElementById("farm-empty").hidden`), false);
        await page.evaluate(`(async () => {
          const select = document.getElementById("recipe");
          select.value = "conv3.yaml";
          select.dispatchEvent(new Event("change"));
          document.getElementById("edit").click();
          const view = await studio.editorReady(), doc = view.state.doc.toString();
          const at = doc.indexOf("size: 128") + "size: ".length;
          view.dispatch({ changes: { from: at, to: at + 3, insert: "16" } });
          document.getElementById("save-name").value = "farm-conv3.yaml";
          document.getElementById("submit-farm").click();
        })()`);
        let rows: string[] = [];
        while (Date.now() < end) {
          rows = await page.evaluate<string[]>(
            `[...document.querySelectorAll("#farm-jobs tbody tr")].map((r) => r.textContent)`,
          );
          if (rows.length) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(rows.length, 1, "one job listed");
        assert.match(rows[0], /^[0-9a-f]{12}waitingfarm-conv3\.yaml/);
        assert.match(
          await page.evaluate<string>(`document.getElementById("farm-counts").textContent`),
          /waiting 1.* · 0 worker\(s\) connected$/,
        );
        const [job] = await farm.queue.getJobs(["waiting"]);
        assert.ok(job.data.recipe.endsWith("/farm-conv3.yaml"), job.data.recipe);
        assert.match(await Deno.readTextFile(job.data.recipe), /size: 16\n/);
      } finally {
        await page.close();
        await Deno.remove(dir, { recursive: true });
      }
    } finally {
      await server?.stop();
      await farm.close();
      await redis.dispose();
    }
  },
});
