/**
 * The studio in a real headless Chromium: a render started from the page shows a changing preview
 * and a growing loss curve while the page's API calls answer quickly; the output's record panel;
 * dropping the output PNG restores its recipe (and a PNG without a record says so); an invalid
 * edit shows its error at its line. (serve-bench --screenshots takes the docs' screenshots.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { findChromium, openPage } from "../../src/bench/chromium.ts";
import { startStudio } from "./_studio.ts";

const chromium = findChromium();
if (!chromium) console.warn("serve page test skipped: no Chromium (apt-get install chromium)");

async function until(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "studio page: live render, record panel, drop a PNG to get its recipe, editor errors",
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startStudio();
    const page = await openPage(chromium!, server.url);
    try {
      await until("the page", () => page.evaluate(`document.body?.dataset.ready === "true"`));
      // Idle: empty states that say what to do, no broken image.
      const idle = await page.evaluate<{ broken: number; status: string; chosen: string }>(`({
        broken: [...document.images].filter((i) => !i.hidden && !(i.complete && i.naturalWidth)
          && i.offsetParent).length,
        status: document.getElementById("status").textContent,
        chosen: document.getElementById("recipe").value })`);
      assert.equal(idle.broken, 0);
      assert.match(
        idle.status.replace(/\s+/g, " "),
        /No render yet\. Choose a recipe and press Render/,
      );
      assert.equal(idle.chosen, "", "no recipe is chosen for the user");

      // Choose the recipe: its description and a form from its vars.
      const form = await page.evaluate<{ description: string; fields: string[] }>(`(() => {
        const select = document.getElementById("recipe");
        select.value = "conv3.yaml";
        select.dispatchEvent(new Event("change"));
        return { description: document.getElementById("description").textContent,
          fields: [...document.querySelectorAll("#vars-form [name]")]
            .map((e) => e.name + ":" + (e.type ?? e.tagName) + "=" + (e.value)) };
      })()`);
      assert.match(form.description, /^Gatys, Ecker & Bethge \(2015\)/);
      assert.ok(form.fields.includes("size:number=128"), form.fields.join(" "));
      assert.ok(form.fields.includes("content:select-one=tubingen.jpg"), form.fields.join(" "));
      await page.evaluate(`(() => {
        const set = (name, value) => document.querySelector("#vars-form [name=" + name + "]").value = value;
        set("size", "32"); set("iterations", "60"); set("engine", "onnx");
        document.getElementById("start").click();
      })()`);

      type State = { status?: string; it: number; width: number; points: number; svg: boolean };
      const seen: State[] = [];
      const latencies: number[] = [];
      await until("the render to finish", async () => {
        const s = await page.evaluate<State>(`(() => {
          const p = document.getElementById("preview"), l = document.getElementById("loss");
          return { status: document.getElementById("status").dataset.status,
            it: Number(p.dataset.iteration), width: p.complete ? p.naturalWidth : 0,
            points: Number(l.dataset.points), svg: !!l.querySelector("svg") };
        })()`);
        seen.push(s);
        if (s.status === "running") {
          // The page's own API calls, timed in the page, while the render runs.
          latencies.push(
            ...await page.evaluate<number[]>(`Promise.all(["/api/renders", "/api/outputs",
              "/api/recipes", "/api/renders/r1"].map(async (u) => {
                const t = performance.now(); await (await fetch(u)).json(); return performance.now() - t;
              }))`),
          );
        }
        return s.status === "done" || s.status === "failed" || s.status === "cancelled";
      }, 120_000);
      const last = seen.at(-1)!;
      assert.equal(last.status, "done", JSON.stringify(last));
      const previews = new Set(seen.filter((s) => s.it > 0 && s.width === 32).map((s) => s.it));
      assert.ok(previews.size >= 2, `the preview changed: iterations seen ${[...previews]}`);
      const curve = [...new Set(seen.filter((s) => s.svg).map((s) => s.points))];
      assert.ok(curve.length >= 2, `the curve was redrawn with more points: ${curve}`);
      assert.ok(curve.every((n, i) => i === 0 || n > curve[i - 1]), `the curve grows: ${curve}`);
      assert.ok(latencies.length >= 4, "API calls were timed during the render");
      assert.ok(
        Math.max(...latencies) < 1000,
        `API calls during the render: max ${Math.max(...latencies).toFixed(0)} ms`,
      );
      assert.match(
        await page.evaluate<string>(`document.getElementById("status").textContent`),
        /Done · wrote tubingen-starry-conv3\.png/,
      );

      assert.equal(
        server.log[0],
        "render r1 started: conv3.yaml size=32 iterations=60 engine=onnx",
      );
      assert.match(server.log[1], /^render r1 done after \d+\.\d s: tubingen-starry-conv3\.png$/);

      // The gallery lists the output; its record panel shows what made it.
      await until(
        "the gallery",
        () =>
          page.evaluate(`[...document.querySelectorAll("#gallery .thumb img")]
            .some((i) => i.complete && i.naturalWidth === 32)`),
      );
      await page.evaluate(`document.querySelector("#gallery .thumb").click()`);
      await until("the record", () => page.evaluate(`!document.getElementById("record").hidden`));
      const record = await page.evaluate<{ facts: string; inputs: string[]; chart: boolean }>(`({
        facts: document.getElementById("record-facts").textContent,
        inputs: [...document.querySelectorAll("#record-inputs tbody tr")].map((r) => r.textContent),
        chart: !!document.querySelector("#record-loss svg") })`);
      assert.match(record.facts, /Recipetubingen-starry-conv3 \(conv3\.yaml\)Seed0Engineonnx/);
      assert.deepEqual(record.inputs.map((r) => r.split("images")[0]).sort(), [
        "starry_night.jpg",
        "tubingen.jpg",
      ]);
      assert.ok(record.chart, "the record's loss curve is drawn");

      // Verify re-renders it from its record, in its own process, and finds the same pixels.
      await page.evaluate(`document.getElementById("verify").click()`);
      await until("the verification", async () => {
        const status = await page.evaluate<string>(`document.getElementById("status").textContent`);
        return /^Done · tubingen-starry-conv3\.png: identical/.test(status);
      }, 120_000);

      // Render again saves the recorded recipe beside the others and renders it.
      await page.evaluate(`document.getElementById("again").click()`);
      await until("the second render", async () => {
        const status = await page.evaluate<string>(`document.getElementById("status").textContent`);
        return /^Done · wrote tubingen-starry-conv3\.png/.test(status) && server.log.length >= 6;
      }, 120_000);
      assert.equal(server.log[4], "render r3 started: tubingen-starry-conv3-again.yaml");
      assert.match(server.log[5], /^render r3 done after .*: tubingen-starry-conv3\.png$/);
      const again = await Deno.readTextFile(
        join(server.folders.recipesDir, "tubingen-starry-conv3-again.yaml"),
      );
      assert.match(again, /^# Recreated from the record/);

      // Dropping the output PNG opens the recipe that made it; it validates as it is.
      await page.evaluate(`(async () => {
        const blob = await (await fetch("/api/outputs/tubingen-starry-conv3.png")).blob();
        const dt = new DataTransfer();
        dt.items.add(new File([blob], "tubingen-starry-conv3.png", { type: "image/png" }));
        dispatchEvent(new DragEvent("drop", { dataTransfer: dt, cancelable: true }));
      })()`);
      await until(
        "the dropped recipe",
        () =>
          page.evaluate(
            `studio.editorReady().then((v) => v.state.doc.toString()).then((t) => t.includes("use: style-transfer") &&
            document.getElementById("issues").dataset.count === "0" &&
            document.querySelector("#issues .ok") !== null)`,
          ),
      );
      const dropped = await page.evaluate<string>(
        `studio.editorReady().then((v) => v.state.doc.toString())`,
      );
      assert.match(dropped, /^name: tubingen-starry-conv3$/m);
      assert.match(dropped, /iterations: 60/);
      assert.match(dropped, /max_side: 32/);

      // A PNG without a record gets a clear message.
      await page.evaluate(`(async () => {
        const canvas = Object.assign(document.createElement("canvas"), { width: 4, height: 4 });
        const blob = await new Promise((ok) => canvas.toBlob(ok, "image/png"));
        const dt = new DataTransfer();
        dt.items.add(new File([blob], "plain.png", { type: "image/png" }));
        dispatchEvent(new DragEvent("drop", { dataTransfer: dt, cancelable: true }));
      })()`);
      await until(
        "the message",
        () => page.evaluate(`document.getElementById("error").textContent.length > 0`),
      );
      assert.match(
        await page.evaluate<string>(`document.getElementById("error").textContent`),
        /plain\.png carries no stylepipe record/,
      );

      // An invalid edit shows the error at its line, with did-you-mean.
      const text = await Deno.readTextFile(join(server.folders.recipesDir, "conv3.yaml"));
      const line = text.split("\n").findIndex((l) => l.includes("use: resize")) + 1;
      await page.evaluate(`(async () => {
        const select = document.getElementById("recipe");
        select.value = "conv3.yaml";
        select.dispatchEvent(new Event("change"));
        document.getElementById("edit").click();
        const view = await studio.editorReady(), doc = view.state.doc.toString();
        const at = doc.indexOf("use: resize") + "use: ".length;
        view.dispatch({ changes: { from: at, to: at + "resize".length, insert: "resise" } });
      })()`);
      await until(
        "the error",
        () => page.evaluate(`document.querySelector("#issues .issue") !== null`),
      );
      const issue = await page.evaluate<{ line: string; text: string; marked: string }>(`({
        line: document.querySelector("#issues .issue").dataset.line,
        text: document.querySelector("#issues .issue").textContent,
        marked: document.querySelector(".cm-lintRange-error")?.closest(".cm-line")?.textContent ?? "" })`);
      assert.equal(Number(issue.line), line);
      assert.match(issue.text, new RegExp(`^line ${line}, column \\d+: .*did you mean "resize"`));
      assert.match(issue.marked, /use: resise/, "the editor marks the line");
    } finally {
      await page.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "studio page: opened from the printed address with its token, the page works",
  ignore: !chromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const token = "fedcba9876543210fedcba9876543210";
    const server = await startStudio({ boundHost: "0.0.0.0", token });
    const page = await openPage(chromium!, `${server.url}?token=${token}`);
    try {
      await until("the page", () => page.evaluate(`document.body?.dataset.ready === "true"`));
      const options = await page.evaluate<string[]>(
        `[...document.getElementById("recipe").options].map((o) => o.value)`,
      );
      assert.deepEqual(options, ["", "conv3.yaml"]);
      assert.equal(await page.evaluate(`document.getElementById("error").textContent`), "");
    } finally {
      await page.close();
      await server.stop();
    }
  },
});
