/**
 * The full fuzz run of issue 22 (the tests run a CI-sized part): N cases of each door — mutated
 * recipes, `--set` values, farm job payloads and page request bodies — each loaded and planned in
 * a worker with a time limit; prints per kind the cases, accepted, refused, failures (crash, hang,
 * position outside the file, over 2 GiB resident), peak resident memory and time, and the load.
 * Usage: deno task dev fuzz [N=1500] [SEED=22]   (exit 1 if any case failed)
 */
import { runFuzz } from "../../tests/recipe/_fuzz_driver.ts";

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 1500);
  const seed = Number(Deno.args[1] ?? 22);
  console.log(
    `# fuzz seed ${seed}, ${n} cases per kind, ${new Date().toISOString()}, ` +
      `load ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")}`,
  );
  let failed = 0;
  for (const kind of ["recipe", "set", "job", "body"] as const) {
    const s = await runFuzz(kind, seed, n);
    failed += s.failures.length;
    console.log(
      `${kind.padEnd(6)} ${s.cases} cases: ${s.accepted} accepted, ${s.rejected} refused, ` +
        `${s.failures.length} failed; peak RSS ${(s.peakRss / 2 ** 20).toFixed(0)} MiB; ` +
        `${s.seconds.toFixed(0)} s`,
    );
    for (const f of s.failures.slice(0, 10)) console.log(`  ${f.split("\n")[0]}`);
  }
  Deno.exit(failed ? 1 : 0);
}
