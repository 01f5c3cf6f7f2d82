/**
 * The render farm against real redis-server instances (each test starts its own on a free loopback
 * port) and real worker subprocesses: exactly-once completion with byte-identical outputs, kill -9
 * mid style-transfer and resume on the other worker, a Redis restart mid-run, a job scheduler with
 * three workers, deduplicated submissions and cached renders.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadJobRecipe, recipeRefOf } from "../../src/cli/farm_args.ts";
import type { RecipeRef } from "../../src/farm/jobs.ts";
import { submitRecipe, type SubmittedJob } from "../../src/farm/submit.ts";
import { startWorker } from "../../src/farm/worker.ts";
import { scheduleCommand } from "../../src/cli/schedule.ts";
import { CacheStore } from "../../src/pipeline/cache.ts";
import { timestampName } from "../../src/pipeline/schedule.ts";
import { planRecipe } from "../../src/pipeline/plan.ts";
import { runPlan } from "../../src/pipeline/run.ts";
import { completions, env, testQueue, waitUntil, WorkerProcess } from "./_farm.ts";
import { readFarmKey } from "../../src/farm/signing.ts";
import { repoRoot } from "../stages/_context.ts";
import { queueCommand } from "../../src/cli/queue.ts";
import { hasRedis, NO_REDIS, TestRedis } from "./_redis.ts";

if (!hasRedis) console.warn(NO_REDIS);

/** 18 image-stage outputs (a 9 × 2 matrix). */
const IMAGE_RECIPE = `version: 1
name: levels
matrix:
  level: [-0.4, -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3, 0.4]
  side: [24, 32]
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: photo, with: { max_side: "\${side}" } }
  - { id: lit, use: adjust, from: small, with: { brightness: "\${level}" } }
  - { id: final, use: save, from: lit, with: { path: "lit-\${side}-\${level}.png" } }
`;

/** A 32 px (or smaller) style transfer per style. */
function neuralRecipe(
  options: { side: number; iterations: number; every: number; styles?: string[] },
): string {
  return `version: 1
name: neural
seed: 5
engine: onnx
matrix:
  style: [${(options.styles ?? ["starry_night.jpg", "the_scream.jpg"]).join(", ")}]
steps:
  - { id: content, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: content, with: { max_side: ${options.side} } }
  - { id: style, use: load, with: { path: "\${style}" } }
  - id: features
    use: extract-features
    from: { content: small, style: style }
    with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }
  - id: transfer
    use: style-transfer
    from: features
    with: { iterations: ${options.iterations}, checkpoint_every: ${options.every} }
  - { id: final, use: save, from: transfer, with: { path: "\${style_name}.png" } }
`;
}

/** Writes a recipe and returns how a job refers to it (outputs under `dir/outDir`). */
async function recipeRef(
  dir: string,
  name: string,
  text: string,
  outDir: string,
): Promise<RecipeRef> {
  await Deno.writeTextFile(join(dir, name), text);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  return recipeRefOf(join(dir, name), { outDir: join(dir, outDir) });
}

/** Renders a recipe in this process (the single-machine reference). */
async function renderHere(ref: RecipeRef, outDir: string, cacheDir: string): Promise<void> {
  const recipe = await loadJobRecipe(ref);
  const plan = await planRecipe(recipe, { outDir, imageDirs: ref.imageDirs });
  await runPlan(plan, { cache: new CacheStore(cacheDir) });
}

async function submit(url: string, ref: RecipeRef): Promise<SubmittedJob[]> {
  const q = testQueue(url);
  try {
    return await submitRecipe(q.queue, await loadJobRecipe(ref), ref, await readFarmKey());
  } finally {
    await q.close();
  }
}

async function assertSameBytes(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([Deno.readFile(a), Deno.readFile(b)]);
  assert.ok(x.length === y.length && x.every((v, i) => v === y[i]), `${a} and ${b} differ`);
}

/** Every file under `dir`, relative. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await filesUnder(join(dir, e.name), `${prefix}${e.name}/`));
    else out.push(prefix + e.name);
  }
  return out.sort();
}

const farmTest = (name: string, fn: (redis: TestRedis, dir: string) => Promise<void>) =>
  Deno.test({
    name,
    ignore: !hasRedis,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const redis = await TestRedis.start();
      const dir = await Deno.makeTempDir({ prefix: "stylepipe-farm-" });
      try {
        await fn(redis, dir);
      } finally {
        await redis.dispose();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });

farmTest(
  "2 workers × 20 jobs: each completes exactly once, outputs equal a single-process render",
  async (redis, dir) => {
    const images = await recipeRef(dir, "levels.yaml", IMAGE_RECIPE, "farm");
    const neural = await recipeRef(
      dir,
      "neural.yaml",
      neuralRecipe({ side: 32, iterations: 6, every: 0 }),
      "farm",
    );
    const imageJobs = await submit(redis.url, images);
    const cache = join(dir, "shared-cache");
    const workers = [new WorkerProcess(redis.url, cache), new WorkerProcess(redis.url, cache)];
    let jobs = imageJobs;
    try {
      // The neural renders through the command line, following them until they complete.
      const cli = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "mod.ts", "submit", neural.recipe, "--queue", redis.url]
          .concat(["--out-dir", neural.outDir, "--wait", "--json"]),
        cwd: repoRoot,
        env,
      }).output();
      const lines = new TextDecoder().decode(cli.stdout).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
      const submitted = lines.filter((l) => l.type === "submitted");
      assert.equal(submitted.length, 2);
      for (const { id } of submitted) {
        assert.equal(lines.findLast((l) => l.type === "job" && l.id === id)?.state, "completed");
      }
      jobs = [...imageJobs, ...submitted];
      assert.equal(new Set(jobs.map((j) => j.id)).size, 20);
      await waitUntil(() => completions(workers).size === 20, 90_000, "20 completions");
    } finally {
      await stopAll(workers);
    }
    const counts = completions(workers);
    assert.deepEqual([...counts.keys()].sort(), jobs.map((j) => j.id).sort());
    assert.ok([...counts.values()].every((n) => n === 1), JSON.stringify([...counts]));
    assert.equal(workers.flatMap((w) => w.of("job-failed")).length, 0);
    console.log(`jobs per worker: ${workers.map((w) => w.of("job-completed").length).join(", ")}`);

    // The same recipes in one process: every PNG identical, byte for byte.
    await renderHere(images, join(dir, "single"), join(dir, "single-cache"));
    await renderHere(neural, join(dir, "single"), join(dir, "single-cache"));
    const pngs = (await filesUnder(join(dir, "farm"))).filter((f) => f.endsWith(".png"));
    assert.equal(pngs.length, 20);
    assert.deepEqual(
      pngs,
      (await filesUnder(join(dir, "single"))).filter((f) => f.endsWith(".png")),
    );
    for (const f of pngs) await assertSameBytes(join(dir, "farm", f), join(dir, "single", f));
  },
);

/** Runs `command`, returning the JSON lines it printed with console.log; asserts its exit code. */
async function logged(command: () => Promise<number>, code = 0) {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    assert.equal(await command(), code, lines.join("\n"));
  } finally {
    console.log = log;
  }
  return lines.flatMap((l) => l.split("\n")).filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l)
  );
}

/** Stops the workers (SIGTERM); a worker that had started must exit 0 (or have been killed). */
async function stopAll(workers: readonly WorkerProcess[]): Promise<void> {
  const statuses = await Promise.all(workers.map((w) => w.stop()));
  const unclean = statuses.filter((s, i) =>
    !s.success && s.signal !== "SIGKILL" && workers[i].of("worker-started").length > 0
  );
  assert.deepEqual(unclean, []);
}

/** Checkpoint files in a cache folder. */
async function checkpointFiles(cache: string): Promise<string[]> {
  return await filesUnder(join(cache, "checkpoints")).catch(() => []);
}

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  farmTest(
    `${signal} to the worker mid style-transfer: the other resumes from the checkpoint, same bytes`,
    async (redis, dir) => {
      const ITERATIONS = 60;
      const EVERY = 10;
      const text = neuralRecipe({
        side: 24,
        iterations: ITERATIONS,
        every: EVERY,
        styles: ["starry_night.jpg"],
      });
      const ref = await recipeRef(dir, "neural.yaml", text, "farm");
      const [job] = await submit(redis.url, ref);
      const cache = join(dir, "shared-cache");
      const lock = ["--lock-duration", "1500"];
      const workers = [
        new WorkerProcess(redis.url, cache, lock),
        new WorkerProcess(redis.url, cache, lock),
      ];
      try {
        let victim: WorkerProcess | undefined;
        await waitUntil(
          async () => {
            victim ??= workers.find((w) => w.of("job-started").length > 0);
            return !!victim && (await checkpointFiles(cache)).length > 0;
          },
          60_000,
          "a worker to start the job and write a checkpoint",
        );
        const status = await victim!.stop(signal);
        if (signal === "SIGKILL") assert.equal(status.signal, "SIGKILL");
        else {
          // It stops taking jobs, cancels the render, puts it back in the queue and exits 0.
          assert.equal(status.code, 0);
          assert.equal(victim!.of("job-requeued").length, 1);
        }
        const survivor = workers.find((w) => w !== victim)!;
        assert.deepEqual(await filesUnder(join(dir, "farm")).catch(() => []), [], "no output yet");

        await waitUntil(
          () => survivor.of("job-completed").length > 0,
          60_000,
          "the survivor to finish",
        );
        const resumed = survivor.of("job-progress").find((e) => e.message === "resumed");
        assert.ok(resumed, "the survivor resumed from the checkpoint");
        const at = resumed.iteration as number;
        // Killed: from the last periodic checkpoint; stopped: from where it stopped (no line search).
        const periodic = at % EVERY === 0;
        assert.ok(at >= EVERY && at < ITERATIONS && (periodic || signal === "SIGTERM"), `at ${at}`);
        assert.equal(survivor.of("job-completed")[0].job, job.id);
        assert.equal(victim!.of("job-completed").length, 0);
      } finally {
        await stopAll(workers);
      }
      await renderHere(ref, join(dir, "single"), join(dir, "single-cache"));
      await assertSameBytes(
        join(dir, "farm", "starry_night.png"),
        join(dir, "single", "starry_night.png"),
      );
      // Nothing partial anywhere: the output and its sidecar only; no temporary or checkpoint files.
      assert.deepEqual(await filesUnder(join(dir, "farm")), [
        "starry_night.png",
        "starry_night.png.json",
      ]);
      assert.deepEqual((await filesUnder(cache)).filter((f) => f.endsWith(".tmp")), []);
      assert.deepEqual(await checkpointFiles(cache), []);
    },
  );
}

farmTest(
  "redis restarted during a run: workers reconnect, no job lost or completed twice",
  async (redis, dir) => {
    const images = await recipeRef(dir, "levels.yaml", IMAGE_RECIPE, "farm");
    const text = neuralRecipe({ side: 24, iterations: 60, every: 10, styles: ["the_scream.jpg"] });
    const neural = await recipeRef(dir, "neural.yaml", text, "farm");
    const cache = join(dir, "shared-cache");
    const before = await submit(redis.url, neural);
    const workers = [new WorkerProcess(redis.url, cache), new WorkerProcess(redis.url, cache)];
    try {
      // Redis goes away while the style transfer runs, and comes back on the same port.
      await waitUntil(
        () => workers.some((w) => w.of("job-started").length > 0),
        60_000,
        "the style transfer to start",
      );
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await redis.restart();
      const after = await submit(redis.url, images); // taken by the reconnected workers
      const all = [...before, ...after];
      await waitUntil(
        () => completions(workers).size === all.length,
        90_000,
        "every job to complete",
      );
      const q = testQueue(redis.url);
      try {
        const counts = await q.queue.getJobCounts("completed", "failed", "active", "wait");
        assert.deepEqual(counts, { completed: all.length, failed: 0, active: 0, wait: 0 });
      } finally {
        await q.close();
      }
      const counts = completions(workers);
      assert.deepEqual([...counts.keys()].sort(), all.map((j) => j.id).sort());
      assert.ok([...counts.values()].every((n) => n === 1), JSON.stringify([...counts]));
    } finally {
      await stopAll(workers);
    }
  },
);

const NIGHTLY_RECIPE = `version: 1
name: nightly
schedule: "* * * * * *"
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: photo, with: { max_side: 16 } }
  - { id: final, use: save, from: small, with: { path: small.png } }
`;

farmTest("a job scheduler with 3 workers: each per-second tick runs once", async (redis, dir) => {
  const recipe = join(dir, "nightly.yaml");
  await Deno.writeTextFile(recipe, NIGHTLY_RECIPE);
  const out = join(dir, "farm");
  const schedule = (...extra: string[]) =>
    scheduleCommand(["--queue", redis.url, recipe, "--out-dir", out, ...extra]);
  const cache = join(dir, "shared-cache");
  const workers = [0, 1, 2].map(() => new WorkerProcess(redis.url, cache));
  try {
    assert.equal(await schedule(), 0);
    assert.equal(await schedule(), 0); // upsert: still one scheduler
    const skipped = () => workers.some((w) => w.of("job-completed").some((e) => e.skipped));
    await waitUntil(
      () => completions(workers).size >= 4 && skipped(),
      60_000,
      "4 ticks, 1 skipped",
    );
    assert.equal(await schedule("--remove"), 0);
    await new Promise((r) => setTimeout(r, 1200)); // a tick already taken may still finish
  } finally {
    await stopAll(workers);
  }
  const counts = completions(workers);
  assert.ok([...counts.values()].every((n) => n === 1), JSON.stringify([...counts]));
  // One job per tick: the ids carry the tick's time, whole seconds, all different.
  const ticks = [...counts.keys()].map((id) => Number(id.split(":").pop())).sort();
  assert.equal(new Set(ticks).size, ticks.length);
  assert.ok(ticks.every((t) => t % 1000 === 0), JSON.stringify(ticks));
  const q = testQueue(redis.url);
  try {
    assert.equal((await q.queue.getJobCounts("completed")).completed, counts.size);
    assert.equal((await q.queue.getJobSchedulers()).length, 0);
  } finally {
    await q.close();
  }
  // A tick renders into its own folder; once a render has filled the cache, ticks skip (several
  // may render when ticks overlap the first render on a loaded machine).
  const done = workers.flatMap((w) => w.of("job-completed"));
  const rendered = done.filter((e) => !e.skipped);
  assert.ok(rendered.length >= 1 && rendered.length < done.length, `${rendered.length} rendered`);
  for (const e of rendered) {
    const tick = new Date(Number((e.job as string).split(":").pop()));
    assert.deepEqual(e.outputs, [join(out, "nightly", timestampName(tick), "small.png")]);
  }
  const folders = await filesUnder(join(out, "nightly"));
  assert.equal(folders.filter((f) => f.endsWith("/small.png")).length, rendered.length);
});

farmTest(
  "the same recipe submitted twice makes one job; a cached render completes without work",
  async (redis, dir) => {
    const ref = await recipeRef(dir, "levels.yaml", IMAGE_RECIPE, "out");
    const cache = join(dir, "cache");
    await renderHere(ref, ref.outDir, cache); // everything is cached already
    const first = await submit(redis.url, ref);
    const second = await submit(redis.url, ref);
    assert.deepEqual(second.map((j) => j.id), first.map((j) => j.id));
    assert.ok(first.every((j) => !j.existed) && second.every((j) => j.existed));

    // A recipe changed after submission fails at once on the worker, without retries.
    const changing = await recipeRef(dir, "changing.yaml", IMAGE_RECIPE, "out2");
    const planned = await submit(redis.url, changing);
    await Deno.writeTextFile(changing.recipe, IMAGE_RECIPE.replace("-0.4,", "-0.5,"));
    const q = testQueue(redis.url);
    assert.equal((await q.queue.getJobCounts("wait")).wait, 36);
    const worker = startWorker({
      url: redis.url,
      store: new CacheStore(cache),
      loadRecipe: loadJobRecipe,
      key: await readFarmKey(),
    });
    try {
      await waitUntil(
        async () => {
          const c = await q.queue.getJobCounts("completed", "failed");
          return c.completed + c.failed === 36;
        },
        60_000,
        "36 jobs to finish",
      );
      for (const { id } of first) {
        const job = (await q.queue.getJob(id))!;
        assert.ok(
          job.returnvalue.steps.every((s) => s.status === "cached"),
          JSON.stringify(job.returnvalue),
        );
      }
      const failed = await q.queue.getJobs(["failed"]);
      assert.equal(failed.length, 2); // the two outputs of level -0.4 (24 and 32 px)
      for (const job of failed) {
        assert.ok(planned.some((j) => j.id === job.id));
        assert.equal(job.attemptsMade, 1);
        assert.match(job.failedReason, /changed since the job was submitted/);
      }

      // The queue command: counts and jobs as JSON; remove a failed job; an unknown id is an error.
      const [snap] = await logged(() => queueCommand(["--queue", redis.url, "--json"]));
      assert.deepEqual(snap.counts, {
        active: 0,
        waiting: 0,
        delayed: 0,
        completed: 34,
        failed: 2,
      });
      assert.equal(snap.jobs.filter((j: { state: string }) => j.state === "failed").length, 2);
      await logged(() => queueCommand(["--queue", redis.url, "--remove", failed[0].id!]));
      assert.equal(await q.queue.getJobState(failed[0].id!), "unknown");
      await logged(() => queueCommand(["--queue", redis.url, "--retry", "no-such-job"]), 1);

      // Submitted again once finished: queued again, and only a deleted output is made again.
      await Deno.remove(join(ref.outDir, "lit-24-0.png"));
      const third = await submit(redis.url, ref);
      assert.ok(third.every((j) => j.existed));
      await waitUntil(
        async () => {
          const states = await Promise.all(third.map((j) => q.queue.getJobState(j.id)));
          return states.every((state) => state === "completed");
        },
        30_000,
        "the resubmitted jobs",
      );
      const ran = await Promise.all(
        third.map(async (j) =>
          (await q.queue.getJob(j.id))!.returnvalue.steps.filter((s) => s.status === "ran")
            .map((s) => s.step)
        ),
      );
      assert.deepEqual(ran.flat(), ["final-9"]); // the save of lit-24-0.png
      assert.ok((await Deno.stat(join(ref.outDir, "lit-24-0.png"))).isFile);
    } finally {
      await worker.stop();
      await q.close();
    }
  },
);
