/**
 * Fuzz test (issue 12): 1,200 malformed recipes from a fixed seed, each loaded and planned
 * in-process (in a worker, so a case that hangs is stopped): every one is accepted or rejected
 * with issues positioned inside the file — never a crash, never more than the per-case time limit,
 * and the process's memory stays bounded. A few cases also go through the CLI for exit codes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuzzCase } from "./_fuzz_cases.ts";
import type { FuzzAnswer } from "./_fuzz_worker.ts";

const SEED = 12;
const CASES = 1200;
/** A hang guard, not a speed target: the slowest case takes well under a second. */
const PER_CASE_MS = 10_000;
const MAX_RSS = 2 * 1024 ** 3;

Deno.test("fuzz: 1,200 malformed recipes are accepted or rejected with positions", async () => {
  const worker = new Worker(new URL("./_fuzz_worker.ts", import.meta.url).href, { type: "module" });
  const answers: FuzzAnswer[] = [];
  let next: ((a: FuzzAnswer | "closed" | "ready") => void) | undefined;
  const ready = new Promise((resolve) => next = resolve);
  worker.onmessage = (e) => next?.(e.data);
  const ask = (msg: unknown) =>
    new Promise<FuzzAnswer | "closed" | "ready">((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout")), PER_CASE_MS);
      next = (a) => {
        clearTimeout(timer);
        resolve(a);
      };
      worker.postMessage(msg);
    });
  try {
    await ready; // loading the modules is not part of any case's time
    for (let index = 0; index < CASES; index++) {
      const answer = await ask({ seed: SEED, index }).catch((e) => {
        const { how, text } = fuzzCase(SEED, index);
        throw new Error(
          `case ${index} (${how}) took over ${PER_CASE_MS} ms (${e}):\n${text.slice(0, 500)}`,
        );
      });
      const a = answer as FuzzAnswer;
      assert.notEqual(
        a.outcome,
        "crashed",
        `case ${index} (${a.how}) crashed: ${a.message}\n${a.text}`,
      );
      assert.deepEqual(
        a.badPositions,
        [],
        `case ${index} (${a.how}): issues outside the file\n${a.text}`,
      );
      assert.ok(a.rss < MAX_RSS, `case ${index} (${a.how}): RSS ${a.rss} bytes`);
      answers.push(a);
    }
    await ask("close");
  } finally {
    worker.terminate();
  }
  const count = (o: string) => answers.filter((a) => a.outcome === o).length;
  const peak = Math.max(...answers.map((a) => a.rss));
  console.log(
    `fuzz seed ${SEED}: ${answers.length} recipes, ${count("accepted")} accepted, ` +
      `${count("rejected")} rejected with positions, 0 crashed; peak RSS ${
        (peak / 2 ** 20).toFixed(0)
      } MiB`,
  );
  // The mutations must mostly break recipes, and some must survive (else the generator is broken).
  assert.ok(count("rejected") > CASES / 2 && count("accepted") > 10);
});

const repo = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("fuzz through the CLI: validate exits 0 or 2 with file:line:col lines", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.copyFile(join(repo, "tests/recipe/_fuzz_cases.ts"), join(dir, "unused.ts")).catch(
    () => {},
  );
  const codes: number[] = [];
  for (const index of [0, 1, 2, 49, 99, 149, 3, 7]) {
    const { text, how } = fuzzCase(SEED, index);
    const file = join(dir, `case${index}.yaml`);
    await Deno.writeTextFile(file, text);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--deny-import", join(repo, "mod.ts"), "validate", file],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", STYLEPIPE_WEIGHTS: join(dir, "none"), STYLEPIPE_IMAGES: dir },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok([0, 2].includes(out.code), `case ${index} (${how}): exit ${out.code}\n${stderr}`);
    if (out.code === 2) {
      // (Deno may also print a line about waiting for the node_modules lock: not ours.)
      const lines = stderr.trim().split("\n").filter((l) => l.startsWith(file));
      assert.ok(lines.length > 0, `case ${index}: no positioned line\n${stderr}`);
      for (const line of lines) assert.match(line, /^[^:]+:\d+:\d+: /, `case ${index}`);
    }
    codes.push(out.code);
  }
  assert.ok(codes.includes(2));
  await Deno.remove(dir, { recursive: true });
});

// Issue 22: the other doors, CI-sized (src/bench/fuzz.ts runs 1,500+ of each kind).
for (const [kind, count] of [["set", 100], ["job", 100], ["body", 100]] as const) {
  Deno.test(`fuzz: ${count} ${kind} cases are accepted or refused with a reason`, async () => {
    const { runFuzz } = await import("./_fuzz_driver.ts");
    const s = await runFuzz(kind, SEED, count);
    assert.deepEqual(s.failures, []);
    console.log(
      `fuzz ${kind}: ${s.cases} cases, ${s.accepted} accepted, ${s.rejected} refused, ` +
        `peak RSS ${(s.peakRss / 2 ** 20).toFixed(0)} MiB, ${s.seconds.toFixed(1)} s`,
    );
    // Both outcomes must occur, or the generator is not exercising the door.
    assert.ok(s.accepted > 0 && s.rejected > count / 4, JSON.stringify(s));
  });
}
