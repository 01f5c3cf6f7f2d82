// scratch: per-job cost of the job child (not committed)
import { join } from "node:path";
import { loadJobRecipe, recipeRefOf, jobRecipeLoader } from "./src/cli/farm_args.ts";
import { submitRecipe } from "./src/farm/submit.ts";
import { startWorker } from "./src/farm/worker.ts";
import { CacheStore } from "./src/pipeline/cache.ts";
import { selfCommand } from "./src/cli/self_command.ts";
import { TestRedis } from "./tests/farm/_redis.ts";
import { testQueue, waitUntil } from "./tests/farm/_farm.ts";

const kind = Deno.args[0]; // images | neural
const recipe = kind === "images" ? `version: 1
matrix: { level: [-0.3, -0.2, -0.1, 0.1, 0.2, 0.3] }
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: photo, with: { max_side: 32 } }
  - { id: lit, use: adjust, from: small, with: { brightness: "\${level}" } }
  - { id: final, use: save, from: lit, with: { path: "lit-\${level}.png" } }
` : `version: 1
seed: 5
engine: onnx
matrix: { style: [starry_night.jpg, the_scream.jpg] }
steps:
  - { id: content, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: content, with: { max_side: 24 } }
  - { id: style, use: load, with: { path: "\${style}" } }
  - id: features
    use: extract-features
    from: { content: small, style: style }
    with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }
  - { id: transfer, use: style-transfer, from: features, with: { iterations: 20 } }
  - { id: final, use: save, from: transfer, with: { path: "\${style_name}.png" } }
`;
for (const mode of ["in-process", "child", "in-process", "child"]) {
  const redis = await TestRedis.start();
  const dir = await Deno.makeTempDir({ prefix: "farm-child-bench-" });
  await Deno.writeTextFile(join(dir, "r.yaml"), recipe);
  const ref = recipeRefOf(join(dir, "r.yaml"), { outDir: join(dir, "out") });
  const q = testQueue(redis.url);
  const jobs = await submitRecipe(q.queue, await loadJobRecipe(ref), ref, undefined);
  const cacheDir = join(dir, "cache");
  const t0 = performance.now();
  const worker = startWorker({
    url: redis.url, store: new CacheStore(cacheDir), loadRecipe: loadJobRecipe, key: undefined,
    jobChild: mode === "child" ? { command: selfCommand("worker", "--job-child"), cacheDir, plugins: "refuse" } : undefined,
  });
  await waitUntil(async () => (await q.queue.getJobCounts("completed")).completed === jobs.length, 600_000, "jobs");
  const s = (performance.now() - t0) / 1000;
  console.log(kind, mode, jobs.length, "jobs", s.toFixed(2), "s", (s / jobs.length).toFixed(2), "s/job");
  await worker.stop(); await q.close(); await redis.dispose();
  await Deno.remove(dir, { recursive: true });
}
Deno.exit(0);
