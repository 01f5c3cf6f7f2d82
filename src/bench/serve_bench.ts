/**
 * The studio's responsiveness during a render (issue 23's targets): starts `serve` as its own
 * process over a temporary recipes folder holding the conv3 example, starts a 256 px render from a
 * headless Chromium page, and meanwhile
 * - times every API call of the page, round robin, from this process: p95 per endpoint and overall
 *   (target ≤ 50 ms);
 * - reads, in the page, how long after the engine produced each preview it was on screen (pushed
 *   over server-sent events; target ≤ 1 s);
 * - opens a second page mid-render and times it until usable (its script loaded, recipes, renders
 *   and outputs listed: target ≤ 1 s); the first page, opened before the render, gives the same
 *   figure without a render.
 * Prints one JSON object with the figures, the targets met and the load average. Bounded: the
 * render is cancelled after `--seconds`. With `--screenshots DIR` it also saves the studio's
 * screenshots (idle, live render, record panel, editor with an error) into DIR.
 *
 *   deno task dev serve-bench [--size 256] [--iterations 40] [--seconds 300] [--screenshots docs]
 */
import { join } from "node:path";
import { parseCommandArgs } from "../cli/args.ts";
import { type BrowserPage, findChromium, openPage } from "./chromium.ts";
import { textStream } from "../util/text_stream.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** The API calls a page makes, as the bench times them. */
const CALLS: readonly { name: string; path: string; body?: unknown }[] = [
  { name: "GET /api/renders", path: "/api/renders" },
  { name: "GET /api/renders/r1", path: "/api/renders/r1" },
  { name: "GET /api/outputs", path: "/api/outputs" },
  { name: "GET /api/recipes", path: "/api/recipes" },
  { name: "GET /api/images", path: "/api/images" },
  { name: "GET /api/info", path: "/api/info" },
  { name: "GET /api/queue", path: "/api/queue" },
  { name: "GET /api/renders/r1/preview.png", path: "/api/renders/r1/preview.png" },
  { name: "POST /api/validate", path: "/api/validate", body: "recipe" },
];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] ?? NaN;
};
const round = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`serve-bench: timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<number> {
  const { values } = parseCommandArgs("serve-bench", Deno.args, {
    size: { type: "string", default: "256" },
    iterations: { type: "string", default: "40" },
    seconds: { type: "string", default: "300" },
    screenshots: { type: "string" },
  });
  if (values.help) {
    console.log(
      "Usage: deno task dev serve-bench [--size 256] [--iterations 40] [--seconds 300] [--screenshots DIR]",
    );
    return 0;
  }
  const chromium = findChromium();
  if (!chromium) {
    console.error("serve-bench: needs Chromium (apt-get install chromium)");
    return 1;
  }
  // Inside the repository's work folder, so the page shows the short paths a user would see.
  await Deno.mkdir(join(REPO, ".stylepipe"), { recursive: true });
  const dir = await Deno.makeTempDir({ dir: join(REPO, ".stylepipe"), prefix: "serve-bench-" });
  const recipes = join(dir, "recipes");
  await Deno.mkdir(recipes);
  const recipeText = await Deno.readTextFile(join(REPO, "pipelines/tubingen-starry-conv3.yaml"));
  await Deno.writeTextFile(join(recipes, "conv3.yaml"), recipeText);
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--deny-import",
      join(REPO, "mod.ts"),
      "serve",
      "--port",
      "0",
      "--recipes",
      recipes,
      "--out-dir",
      join(dir, "out"),
      "--cache-dir",
      join(dir, "cache"),
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const pages: BrowserPage[] = [];
  try {
    const url = await serverUrl(server.stdout);
    const shots = values.screenshots;
    const page = await openPage(chromium, url);
    pages.push(page);
    await until("the page", () => page.evaluate(`document.body?.dataset.ready === "true"`), 60_000);
    // The same measure with no render running: what this machine's load alone costs.
    const idleReady = await page.evaluate<number>(
      `Math.round(performance.getEntriesByName("ready")[0].startTime)`,
    );
    if (shots) await page.screenshot(join(shots, "studio-idle.png"));
    const sets = [`size=${values.size}`, `iterations=${values.iterations}`];
    await page.evaluate(`(() => {
      const select = document.getElementById("recipe");
      select.value = "conv3.yaml";
      select.dispatchEvent(new Event("change"));
      for (const set of ${JSON.stringify(sets)}) {
        const [name, value] = set.split("=");
        document.querySelector("#vars-form [name=" + name + "]").value = value;
      }
      document.getElementById("start").click();
    })()`);
    const status = () => page.evaluate<string>(`document.getElementById("status").dataset.status`);
    await until("the render to start", async () => (await status()) === "running", 60_000);

    const latencies = new Map<string, number[]>(CALLS.map((c) => [c.name, []]));
    const deadline = Date.now() + Number(values.seconds) * 1000;
    let opened: { ready: number; firstPreview?: number } | undefined;
    let live = false;
    let i = 0;
    while ((await status()) === "running" && Date.now() < deadline) {
      const call = CALLS[i++ % CALLS.length];
      const t = performance.now();
      const r = await fetch(url + call.path.slice(1), {
        method: call.body ? "POST" : "GET",
        headers: call.body ? { "content-type": "application/json" } : {},
        body: call.body ? JSON.stringify({ text: recipeText, name: "conv3.yaml" }) : undefined,
      });
      await r.arrayBuffer();
      latencies.get(call.name)!.push(performance.now() - t);
      if (!opened && i === 3 * CALLS.length) opened = await openMidRender(chromium, url, pages);
      const previews = await page.evaluate<number>(
        `performance.getEntriesByName("preview").length`,
      );
      if (shots && !live && previews >= 3) {
        live = true;
        await page.screenshot(join(shots, "studio-live.png"));
      }
      await sleep(50);
    }
    if ((await status()) === "running") {
      await page.evaluate(`document.getElementById("cancel").click()`);
      console.error("serve-bench: render cancelled after --seconds; figures are partial");
    }
    const previewMs = await page.evaluate<number[]>(
      `performance.getEntriesByName("preview").map((m) => m.detail.ms)`,
    );
    if (shots) await otherScreenshots(page, shots);
    const all = [...latencies.values()].flat();
    const p95 = round(percentile(all, 95));
    const previewMax = round(Math.max(...previewMs));
    const result = {
      date: new Date().toISOString(),
      loadavg: Deno.loadavg().map(round),
      cpus: navigator.hardwareConcurrency,
      render: { size: Number(values.size), iterations: Number(values.iterations) },
      api: {
        calls: all.length,
        p95_ms: p95,
        max_ms: round(Math.max(...all)),
        per_call_p95_ms: Object.fromEntries(
          [...latencies].map(([name, ms]) => [name, round(percentile(ms, 95))]),
        ),
      },
      previews: {
        count: previewMs.length,
        p50_ms: round(percentile(previewMs, 50)),
        max_ms: previewMax,
      },
      page_opened_mid_render: opened,
      page_opened_idle: { ready: idleReady },
      targets_met: {
        api_p95_le_50ms: p95 <= 50,
        preview_le_1s: previewMs.length > 0 && previewMax <= 1000,
        page_usable_le_1s: opened !== undefined && opened.ready <= 1000,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    return Object.values(result.targets_met).every(Boolean) ? 0 : 1;
  } finally {
    for (const p of pages) await p.close();
    server.kill("SIGTERM");
    await server.status;
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens a second page mid-render: ms from navigation until usable, and until its first preview. */
async function openMidRender(chromium: string, url: string, pages: BrowserPage[]) {
  const page = await openPage(chromium, url + "#r1");
  pages.push(page);
  await until(
    "the second page",
    () => page.evaluate(`performance.getEntriesByName("ready").length > 0`),
    30_000,
  );
  await until(
    "its preview",
    () => page.evaluate(`performance.getEntriesByName("preview").length > 0`),
    30_000,
  )
    .catch(() => {});
  return await page.evaluate<{ ready: number; firstPreview?: number }>(`({
    ready: Math.round(performance.getEntriesByName("ready")[0].startTime),
    firstPreview: performance.getEntriesByName("preview")[0]?.startTime })`);
}

/** The record panel of the new output, and the editor showing an error. */
async function otherScreenshots(page: BrowserPage, shots: string) {
  await until(
    "the gallery",
    () => page.evaluate(`document.querySelector("#gallery .thumb") !== null`),
    30_000,
  );
  await page.evaluate(`document.querySelector("#gallery .thumb").click()`);
  await until(
    "the record",
    () => page.evaluate(`!!document.querySelector("#record-loss svg")`),
    10_000,
  );
  const compared = await page.evaluate<string>(`(() => {
    const compare = document.getElementById("compare");
    compare.value = "image:tubingen.jpg";
    compare.dispatchEvent(new Event("change"));
    const range = document.getElementById("slider-range");
    range.value = "40";
    range.dispatchEvent(new Event("input"));
    return compare.value;
  })()`);
  if (compared !== "image:tubingen.jpg") console.error(`serve-bench: compared with "${compared}"`);
  await sleep(800);
  await page.screenshot(join(shots, "studio-record.png"), "#record");
  await page.evaluate(`(async () => {
    document.getElementById("edit").click();
    const view = await studio.editorReady(), doc = view.state.doc.toString();
    const at = doc.indexOf("use: resize") + "use: ".length;
    view.dispatch({ changes: { from: at, to: at + "resize".length, insert: "resise" } });
  })()`);
  await until(
    "the error",
    () => page.evaluate(`document.querySelector("#issues .issue") !== null`),
    10_000,
  );
  await sleep(300);
  await page.screenshot(join(shots, "studio-editor-error.png"));
}

/** Reads `serving http://…/` from the server's output. */
async function serverUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = textStream(stdout).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve-bench: the server printed no address:\n${text}`);
    text += value;
    const m = text.match(/serving (http:\/\/\S+\/)/);
    if (m) {
      (async () => {
        while (true) {
          const { value, done } = await reader.read().catch(() => ({ value: "", done: true }));
          if (done) break;
          Deno.stderr.writeSync(new TextEncoder().encode(value));
        }
      })();
      return m[1];
    }
  }
}

if (import.meta.main) Deno.exit(await main());
