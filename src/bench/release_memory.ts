/**
 * Peak resident memory of a chain of image steps, with intermediates released after their last
 * reader (the default) and kept (`keepIntermediates`), each run in its own child process.
 * Usage: deno task dev release-memory [MEGAPIXELS=20] [STEPS=2,6,12]
 */
import { join } from "node:path";
import { planRecipe } from "../pipeline/plan.ts";
import { runPlan } from "../pipeline/run.ts";
import { parseRecipe } from "../recipe/load.ts";
import { builtinStages } from "../stages/builtin.ts";
import sharp from "npm:sharp@0.35.5";

function hwm(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) * 1024;
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    const [, dir, steps, keep] = Deno.args;
    const lines = [`  - { id: s0, use: load, with: { path: photo.png } }`];
    for (let i = 1; i <= Number(steps); i++) {
      lines.push(`  - { id: s${i}, use: adjust, from: s${i - 1}, with: { brightness: 0.01 } }`);
    }
    const text = `version: 1\nsteps:\n${lines.join("\n")}\n`;
    const recipe = await parseRecipe(text, join(dir, "r.yaml"), { registry: builtinStages() });
    Deno.env.set("STYLEPIPE_MEMORY_BUDGET_MB", "100000");
    const plan = await planRecipe(recipe, { imageDirs: [], outDir: join(dir, "out") });
    await runPlan(plan, { cache: null, keepIntermediates: keep === "keep" });
    console.log(hwm());
  } else {
    const mp = Number(Deno.args[0] ?? 20);
    const counts = (Deno.args[1] ?? "2,6,12").split(",").map(Number);
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-release-" });
    const width = 5000, height = Math.round(mp * 1e6 / width);
    await sharp({ create: { width, height, channels: 3, background: "#808080" } }).png()
      .toFile(join(dir, "photo.png"));
    console.log(`# ${width}×${height}, load ${Deno.loadavg()[0].toFixed(1)}`);
    try {
      for (const n of counts) {
        const peaks: string[] = [];
        for (const mode of ["release", "keep"]) {
          const out = await new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", import.meta.filename!, "--child", dir, String(n), mode],
          }).output();
          const bytes = Number(new TextDecoder().decode(out.stdout).trim());
          peaks.push(`${mode} ${(bytes / 1e9).toFixed(2)} GB`);
        }
        console.log(`${n} steps: ${peaks.join(", ")}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}
