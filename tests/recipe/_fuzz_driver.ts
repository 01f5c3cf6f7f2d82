/**
 * Drives fuzz cases through _fuzz_worker.ts in a Web Worker: each case gets a time limit (a case
 * past it is a hang: the worker is terminated and a fresh one continues), and every answer is
 * checked for a crash, positions outside the file and the worker's resident memory.
 */
import type { FuzzAnswer, FuzzKind } from "./_fuzz_worker.ts";

/** What a fuzz run found. */
export interface FuzzSummary {
  readonly kind: FuzzKind;
  readonly cases: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Cases that crashed, hung or answered with positions outside the file (described). */
  readonly failures: readonly string[];
  /** Largest resident memory of the worker's process seen after a case (bytes). */
  readonly peakRss: number;
  readonly seconds: number;
}

/** Runs cases `first … first + count − 1` of `kind` from `seed`. */
export async function runFuzz(
  kind: FuzzKind,
  seed: number,
  count: number,
  options: { perCaseMs?: number; maxRss?: number; first?: number } = {},
): Promise<FuzzSummary> {
  const perCaseMs = options.perCaseMs ?? 10_000;
  const maxRss = options.maxRss ?? 2 * 1024 ** 3;
  const t0 = performance.now();
  const failures: string[] = [];
  let accepted = 0, rejected = 0, peakRss = 0;
  let worker: Worker | undefined;
  let next: ((a: unknown) => void) | undefined;
  const start = async () => {
    worker = new Worker(new URL("./_fuzz_worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (e) => next?.(e.data);
    await new Promise((r) => next = r); // "ready": loading modules is no case's time
  };
  const ask = (msg: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout")), perCaseMs);
      next = (a) => {
        clearTimeout(timer);
        resolve(a);
      };
      worker!.postMessage(msg);
    });
  try {
    await start();
    const first = options.first ?? 0;
    for (let index = first; index < first + count; index++) {
      let a: FuzzAnswer;
      try {
        a = await ask({ kind, seed, index }) as FuzzAnswer;
      } catch {
        failures.push(`${kind} ${index}: no answer within ${perCaseMs} ms (a hang)`);
        worker!.terminate();
        await start();
        continue;
      }
      peakRss = Math.max(peakRss, a.rss);
      if (a.outcome === "crashed") {
        failures.push(`${kind} ${index} (${a.how}) crashed: ${a.message}\n${a.text ?? ""}`);
      } else if (a.badPositions.length) {
        failures.push(`${kind} ${index} (${a.how}): issues outside the file ${a.badPositions}`);
      } else if (a.rss > maxRss) {
        failures.push(`${kind} ${index} (${a.how}): resident memory ${a.rss} bytes`);
      }
      if (a.outcome === "accepted") accepted++;
      if (a.outcome === "rejected") rejected++;
    }
    await ask("close").catch(() => {});
  } finally {
    worker?.terminate();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { kind, cases: count, accepted, rejected, failures, peakRss, seconds };
}
