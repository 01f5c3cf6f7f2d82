/** The serve page in a real headless Chromium: start a render, watch the preview and curve change. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCliRecipe } from "../../src/cli/load.ts";
import { RenderJobs } from "../../src/serve/render_jobs.ts";
import { serveHandler } from "../../src/serve/server.ts";
import { repoRoot } from "../stages/_context.ts";
import { findChromium, openPage } from "../../src/bench/chromium.ts";

const chromium = findChromium();
if (!chromium) console.warn("serve page test skipped: no Chromium (apt-get install chromium)");

/** A server on a free loopback port over a recipes folder holding the conv3 example. */
async function startServer() {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-serve-" });
  const recipes = join(dir, "recipes");
  await Deno.mkdir(recipes);
  await Deno.copyFile(
    join(repoRoot, "pipelines/tubingen-starry-conv3.yaml"),
    join(recipes, "conv3.yaml"),
  );
  const jobs = new RenderJobs({
    outDir: join(dir, "out"),
    cache: null,
    previewEvery: 2,
    load: (file, sets) => loadCliRecipe(file, { sets }),
  });
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen: () => {} },
    serveHandler({ jobs, recipesDir: recipes, outDir: join(dir, "out") }),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    jobs,
    async stop() {
      await jobs.idle();
      controller.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: "serve: a render started in Chromium shows a changing preview and a growing loss curve",
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServer();
    const page = await openPage(chromium!, server.url);
    try {
      const until = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
        const end = Date.now() + ms;
        while (!(await check())) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await until(
        "the page",
        () => page.evaluate<boolean>(`document.body?.dataset.ready === "true"`),
      );
      assert.equal(
        await page.evaluate<string>(`document.getElementById("recipe").value`),
        "conv3.yaml",
      );
      await page.evaluate(`
        document.getElementById("sets").value = "size=32\\niterations=200\\nengine=onnx";
        document.getElementById("start").click();
      `);
      type State = {
        status?: string;
        it: number;
        width: number;
        points: number;
        lossWidth: number;
      };
      const seen: State[] = [];
      await until("the render to finish", async () => {
        const s = await page.evaluate<State>(`(() => {
          const p = document.getElementById("preview"), l = document.getElementById("loss");
          return { status: document.getElementById("status").dataset.status,
                   it: Number(p.dataset.iteration), width: p.complete ? p.naturalWidth : 0,
                   points: Number(l.dataset.points), lossWidth: l.complete ? l.naturalWidth : 0 };
        })()`);
        seen.push(s);
        return s.status === "done" || s.status === "failed";
      }, 120_000);
      assert.equal(seen.at(-1)!.status, "done");
      const previews = new Set(seen.filter((s) => s.it > 0 && s.width === 32).map((s) => s.it));
      assert.ok(previews.size >= 2, `preview changed: iterations seen ${[...previews]}`);
      const curve = [...new Set(seen.filter((s) => s.lossWidth === 560).map((s) => s.points))];
      assert.ok(curve.length >= 2, `loss curve redrawn with more points: ${curve}`);
      assert.ok(curve.every((n, i) => i === 0 || n > curve[i - 1]), `curve grows: ${curve}`);
      // The finished render is listed among the recent outputs, with its image.
      await until(
        "the recent outputs",
        () =>
          page.evaluate<boolean>(`[...document.querySelectorAll("#recent img")]
          .some((i) => i.complete && i.naturalWidth === 32)`),
      );
    } finally {
      await page.close();
      await server.stop();
    }
  },
});
