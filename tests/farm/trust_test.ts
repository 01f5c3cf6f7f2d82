/**
 * The farm's trust boundary against a real redis-server with `requirepass` and real worker
 * subprocesses: unsigned, tampered, malformed, out-of-root and plugin jobs are refused and reported
 * failed with the reason, and write nothing; a signed job whose paths are mapped (`--map`) runs;
 * a worker without a key refuses to start; SIGTERM ends a worker within its grace period even
 * while a job ignores the abort, and even while a plugin stage spins in a synchronous loop (the job
 * goes back to waiting, nothing is written); `schedule --queue` refuses a symlinked out/NAME.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { scheduleCommand } from "../../src/cli/schedule.ts";
import { jobRecipeLoader, loadJobRecipe, recipeRefOf } from "../../src/cli/farm_args.ts";
import type { FarmJobData } from "../../src/farm/jobs.ts";
import { readFarmKey, signJob } from "../../src/farm/signing.ts";
import { submitRecipe } from "../../src/farm/submit.ts";
import { repoRoot, testImagesDir } from "../stages/_context.ts";
import { env, testQueue, waitUntil, WorkerProcess } from "./_farm.ts";
import { hasRedis, NO_REDIS, TestRedis } from "./_redis.ts";

if (!hasRedis) console.warn(NO_REDIS);

const HANG_PLUGIN = join(repoRoot, "tests/farm/_plugins/hang.ts");
const SPIN_PLUGIN = join(repoRoot, "tests/farm/_plugins/spin.ts");

const RECIPE = `version: 1
vars: { photo: tubingen.jpg }
steps:
  - { id: photo, use: load, with: { path: "\${photo}" } }
  - { id: small, use: resize, from: photo, with: { max_side: 16 } }
  - { id: final, use: save, from: small, with: { path: small.png } }
`;

const PLUGIN_RECIPE = `version: 1
plugins: [${HANG_PLUGIN}]
steps:
  - { id: stuck, use: hang }
`;

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test({
  name: "farm trust: only signed jobs inside the roots run; the rest fail with the reason",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const redis = await TestRedis.start("s3cret-farm#pw");
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "stylepipe-trust-" }));
    const q = testQueue(redis.url);
    const workers: WorkerProcess[] = [];
    try {
      for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
      const key = (await readFarmKey())!;
      // The share is /share on the worker and /mnt on the submitter (a link here).
      const share = join(dir, "share");
      const mnt = join(dir, "mnt");
      await Deno.mkdir(share);
      await Deno.symlink(share, mnt);
      await Deno.copyFile(join(testImagesDir(), "tubingen.jpg"), join(share, "tubingen.jpg"));
      await Deno.copyFile(join(testImagesDir(), "tubingen.jpg"), join(dir, "private.jpg"));
      await Deno.writeTextFile(join(share, "r.yaml"), RECIPE);
      await Deno.writeTextFile(join(share, "p.yaml"), PLUGIN_RECIPE);
      const ref = { ...recipeRefOf(join(mnt, "r.yaml"), { outDir: join(mnt, "out") }) };
      const local = { ...ref, imageDirs: [] };

      // The good job, submitted and signed as `submit` does (paths as the submitter sees them).
      const [good] = await submitRecipe(q.queue, await loadJobRecipe(local), local, key);
      const data = (d: Omit<FarmJobData, "kind">): FarmJobData => ({ kind: "scheduled", ...d });
      const add = (id: string, d: FarmJobData) => q.queue.add("render", d, { jobId: id });
      await add("unsigned", data({ ...local, outDir: join(dir, "evil-unsigned") }));
      const signed = await signJob(data({ ...local, outDir: join(mnt, "out-tampered") }), key);
      await add("tampered", { ...signed, outDir: join(dir, "evil-tampered") });
      await add("malformed", { kind: "render", recipe: 5 } as unknown as FarmJobData);
      await add(
        "outside-out",
        await signJob(data({ ...local, outDir: join(dir, "evil-out") }), key),
      );
      await add(
        "outside-input",
        await signJob(
          data({ ...local, sets: [`photo=${join(dir, "private.jpg")}`], outDir: join(mnt, "o2") }),
          key,
        ),
      );
      await add(
        "outside-recipe",
        await signJob(
          data({ ...local, recipe: join(repoRoot, "pipelines/photo-basics.yaml") }),
          key,
        ),
      );
      await add(
        "plugin",
        await signJob(
          data({ ...local, recipe: join(mnt, "p.yaml"), outDir: join(mnt, "o3") }),
          key,
        ),
      );

      const mark = join(dir, "plugin-imported");
      const cache = join(share, "cache");
      const worker = new WorkerProcess(redis.url, cache, [
        ...["--root", share, "--map", `${mnt}=${share}`],
      ], { STYLEPIPE_TEST_PLUGIN_MARK: mark });
      workers.push(worker);
      await waitUntil(
        async () => {
          const c = await q.queue.getJobCounts("completed", "failed");
          return c.completed + c.failed === 8;
        },
        60_000,
        "8 jobs to finish",
      );
      assert.equal(await q.queue.getJobState(good.id), "completed");
      assert.ok(await exists(join(share, "out/small.png")));
      const reasons = Object.fromEntries(
        (await q.queue.getJobs(["failed"])).map((j) => [j.id, j.failedReason]),
      );
      assert.match(reasons.unsigned, /not signed/);
      assert.match(reasons.tampered, /signature does not match/);
      assert.match(reasons.malformed, /malformed job/);
      assert.match(reasons["outside-out"], /output folder .*evil-out is outside .*--root/);
      assert.match(reasons["outside-input"], /private\.jpg is outside this worker's --root/);
      assert.match(reasons["outside-recipe"], /recipe .*photo-basics\.yaml is outside/);
      assert.match(reasons.plugin, /plugin .* was not loaded/);
      assert.equal(Object.keys(reasons).length, 7);
      for (const d of ["evil-unsigned", "evil-tampered", "evil-out", "share/o2", "share/o3"]) {
        assert.ok(!await exists(join(dir, d)), `${d} was created`);
      }
      assert.ok(!await exists(mark), "the plugin was imported");
      const failedLogs = worker.of("job-failed");
      assert.ok(failedLogs.every((e) => e.permanent === true), JSON.stringify(failedLogs));
      await worker.stop();

      // A worker without a key refuses to start; one with --insecure-no-key warns.
      const noKey = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "mod.ts", "worker", "--queue", redis.url],
        cwd: repoRoot,
        env: { ...env, STYLEPIPE_FARM_KEY: "" },
      }).output();
      assert.equal(noKey.code, 2);
      assert.match(new TextDecoder().decode(noKey.stdout), /no farm key/);

      // SIGTERM while a job ignores the abort: the worker exits within its grace period.
      await add("hang", data({ ...local, recipe: join(mnt, "p.yaml"), outDir: join(mnt, "o4") }));
      const stuck = new WorkerProcess(redis.url, cache, [
        ...["--insecure-no-key", "--allow-plugins", "--grace-period", "1"],
      ], { STYLEPIPE_FARM_KEY: "", STYLEPIPE_TEST_PLUGIN_MARK: join(dir, "hang-imported") });
      workers.push(stuck);
      // Its job's process has imported the plugin (it answers SIGTERM from then on); then it hangs.
      await waitUntil(() => exists(join(dir, "hang-imported")), 30_000, "the hanging job");
      await new Promise((r) => setTimeout(r, 500));
      const t0 = performance.now();
      const status = await stuck.stop();
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(status.code, 1);
      assert.ok(seconds < 4, `stopped after ${seconds.toFixed(1)} s`);
      assert.equal(stuck.of("worker-stop-timeout").length, 1);
      assert.equal(stuck.of("worker-started")[0].signed, false);
      assert.equal(stuck.of("job-requeued").length, 1); // its process killed, the job waits again
    } finally {
      for (const w of workers) await w.stop();
      await q.close();
      await redis.dispose();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Whether process `pid` exists (SIGCONT changes nothing for a running process). */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "farm stop: SIGTERM ends a worker whose job spins in `while (true) {}`; the job waits again",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const GRACE = 1;
    const redis = await TestRedis.start();
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "stylepipe-spin-" }));
    const q = testQueue(redis.url);
    let worker: WorkerProcess | undefined;
    try {
      for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
      await Deno.copyFile(join(testImagesDir(), "tubingen.jpg"), join(dir, "tubingen.jpg"));
      await Deno.writeTextFile(
        join(dir, "spin.yaml"),
        `version: 1
plugins: [${SPIN_PLUGIN}]
steps:
  - { id: photo, use: load, with: { path: tubingen.jpg } }
  - { id: stuck, use: spin, from: photo }
  - { id: final, use: save, from: stuck, with: { path: spun.png } }
`,
      );
      const ref = { ...recipeRefOf(join(dir, "spin.yaml"), { outDir: join(dir, "out") }) };
      const local = { ...ref, imageDirs: [] };
      const loadWithPlugins = jobRecipeLoader("load");
      const [job] = await submitRecipe(
        q.queue,
        await loadWithPlugins(local),
        local,
        await readFarmKey(),
      );
      const mark = join(dir, "spinning");
      worker = new WorkerProcess(redis.url, join(dir, "cache"), [
        ...["--allow-plugins", "--grace-period", String(GRACE)],
      ], { STYLEPIPE_TEST_SPIN_MARK: mark });
      const spinning = () => Deno.readTextFile(mark).catch(() => "");
      await waitUntil(async () => await spinning() !== "", 60_000, "the job's stage to spin");
      const spinner = Number(await spinning());
      assert.notEqual(spinner, worker.pid, "the stage ran in the worker's own process");
      assert.ok(alive(spinner), "the spinning process is running");
      const t0 = performance.now();
      const status = await worker.stop();
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(status.code, 1); // a stop past its grace period (docs/security.md)
      assert.ok(seconds < GRACE + 3, `stopped after ${seconds.toFixed(1)} s`);
      assert.equal(worker.of("worker-stop-timeout").length, 1);
      assert.deepEqual(worker.of("job-requeued").map((e) => e.job), [job.id]);
      assert.equal(await q.queue.getJobState(job.id), "waiting");
      assert.ok(!alive(spinner), "the spinning process outlived the worker");
      assert.ok(!await exists(join(dir, "out")), "an output folder was created");
    } finally {
      await worker?.stop();
      await q.close();
      await redis.dispose();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("schedule --queue refuses a symlinked out/NAME, as the local schedule does", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "stylepipe-trust-" }));
  try {
    const recipe = join(dir, "nightly.yaml");
    await Deno.writeTextFile(recipe, `schedule: "0 3 * * *"\n${RECIPE}`);
    await Deno.mkdir(join(dir, "out"));
    await Deno.mkdir(join(dir, "elsewhere"));
    await Deno.symlink(join(dir, "elsewhere"), join(dir, "out/nightly"));
    Deno.env.set("STYLEPIPE_FARM_KEY", env.STYLEPIPE_FARM_KEY);
    const errors: string[] = [];
    const original = console.error;
    const originalLog = console.log;
    console.error = (m: string) => errors.push(m);
    console.log = (m: string) => errors.push(m);
    let code;
    try {
      code = await scheduleCommand([
        ...["--queue", "redis://127.0.0.1:1", recipe, "--out-dir", join(dir, "out")],
      ]);
    } finally {
      console.error = original;
      console.log = originalLog;
    }
    assert.equal(code, 1);
    assert.match(errors.join("\n"), /symbolic link/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
