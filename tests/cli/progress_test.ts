/** What the progress printer emits, on a terminal and off one, for the events of real runs. */
import assert from "node:assert/strict";
import type { RunEvent, StepSummary } from "../../src/pipeline/events.ts";
import {
  formatSeconds,
  liveLine,
  ProgressPrinter,
  type Verbosity,
} from "../../src/cli/progress.ts";

/** A printer writing into strings. */
function capture(isTerminal: boolean, verbosity: Verbosity = "normal", columns?: number) {
  const out = { status: "", summary: "" };
  const printer = new ProgressPrinter({
    verbosity,
    streams: {
      status: { write: (t) => void (out.status += t), isTerminal, columns },
      summary: { write: (t) => void (out.summary += t) },
    },
  });
  return { out, emit: (events: RunEvent[]) => events.forEach(printer.onEvent) };
}

const ran = (step: string, stage: string): StepSummary => ({
  step,
  stage,
  status: "ran",
  seconds: 1.5,
});

/** A load and a 4-iteration style transfer. */
function transferRun(): RunEvent[] {
  const events: RunEvent[] = [
    { type: "run-started", recipe: "demo", steps: ["photo", "transfer"] },
    { type: "step-started", step: "photo", stage: "load", key: "k1" },
    { type: "step-finished", step: "photo", stage: "load", seconds: 0.2, output: "image 4×4" },
    { type: "step-started", step: "transfer", stage: "style-transfer", key: "k2" },
  ];
  for (let i = 1; i <= 4; i++) {
    events.push({
      type: "step-progress",
      step: "transfer",
      elapsed: i,
      progress: { iteration: i, total: 4, fraction: i / 4, loss: 1000 / i, eta: 4 - i },
    });
  }
  events.push(
    { type: "step-finished", step: "transfer", stage: "style-transfer", seconds: 4, output: "x" },
    {
      type: "run-finished",
      ok: true,
      aborted: false,
      seconds: 4.2,
      steps: [ran("photo", "load"), ran("transfer", "style-transfer")],
      outputs: ["out/x.png"],
    },
  );
  return events;
}

Deno.test("off a terminal: one line per step, no redraws, no blank lines, the outputs", () => {
  const { out, emit } = capture(false);
  emit(transferRun());
  assert.ok(!out.status.includes("\r"), "no carriage returns in a log");
  const lines = out.status.split("\n");
  assert.equal(lines.at(-1), "", "ends with a newline");
  assert.deepEqual(lines.slice(0, -1), [
    "▶ demo: 2 steps",
    "  ✓ photo (load) 200 ms → image 4×4",
    "  ✓ transfer (style-transfer) 4.0 s → x",
  ]);
  assert.ok(!out.summary.includes("\n\n"), "no blank line");
  assert.match(
    out.summary,
    /transfer\s+style-transfer\s+ran\s+1\.500\ntotal 4\.200 s\nwrote out\/x\.png\n$/,
  );
});

Deno.test("on a terminal: the step's line is redrawn in place and replaced by its result", () => {
  const { out, emit } = capture(true);
  emit(transferRun());
  const frames = out.status.split("\r\x1b[2K");
  const transferFrames = frames.filter((f) => f.includes("… transfer | it"));
  assert.equal(transferFrames.length, 4, "one redraw per progress event");
  for (const f of transferFrames) {
    assert.ok(!f.includes("\n"), `a live frame is one line: ${JSON.stringify(f)}`);
    assert.equal(f.match(/ETA/g)?.length ?? 0, f.includes("100%") ? 0 : 1, f);
    assert.equal(f.match(/loss/g)?.length, 1, f);
  }
  assert.match(
    transferFrames[0],
    /… transfer \| it 1\/4 \| ETA 3\.0 s \| loss 1000 \| 25% \[█{6}░{18}\] \| \(style-transfer\)$/,
  );
  assert.match(
    transferFrames[3],
    /… transfer \| it 4\/4 \| loss 250\.0 \| 100% \[█{24}\] \| \(style-transfer\)$/,
  );
  // The result line is written over the live line and stays; nothing is drawn after the run.
  assert.ok(out.status.endsWith("\r\x1b[2K  ✓ transfer (style-transfer) 4.0 s → x\n"));
  assert.equal(out.status.split("\n").length - 1, 3, "run line + one line per step");
});

Deno.test("the live line fits the terminal's width, most useful fields first, ETA kept", () => {
  const { out, emit } = capture(true, "normal", 40);
  emit(transferRun().slice(0, 5));
  const last = out.status.split("\r\x1b[2K").at(-1)!;
  assert.equal(last, "  … transfer | it 1/4 | ETA 3.0 s | 25%");
  const progress = { iteration: 6, total: 40, fraction: 0.15, loss: 1.2345, eta: 12.3 };
  const at80 = liveLine({ step: "transfer", stage: "style-transfer", elapsed: 9, progress }, 80);
  assert.ok([...at80].length <= 79, at80);
  assert.equal(
    at80,
    "  … transfer | it 6/40 | ETA 12.3 s | loss 1.234 | 15% [██░░░░░░░░░░]",
  );
  const long = liveLine({ step: "x".repeat(100), stage: "s", elapsed: 0, progress }, 80);
  assert.equal([...long].length, 79);
});

Deno.test("notes and warnings stay above the live line", () => {
  const { out, emit } = capture(true);
  const events = transferRun();
  events.splice(4, 0, {
    type: "step-note",
    step: "transfer",
    message: "resumed from iteration 41",
  });
  emit(events);
  assert.ok(out.status.includes("\r\x1b[2K  · transfer: resumed from iteration 41\n"));
});

Deno.test("a fully cached run says the outputs are up to date", () => {
  const { out, emit } = capture(false);
  emit([
    { type: "run-started", recipe: "demo", steps: ["photo", "final"] },
    { type: "step-cached", step: "photo", stage: "load" },
    { type: "step-cached", step: "final", stage: "save", output: "out/x.png" },
    {
      type: "run-finished",
      ok: true,
      aborted: false,
      seconds: 0.01,
      steps: [
        { step: "photo", stage: "load", status: "cached", seconds: 0 },
        { step: "final", stage: "save", status: "cached", seconds: 0 },
      ],
      outputs: ["out/x.png"],
    },
  ]);
  assert.match(out.summary, /up to date \(every step cached\): out\/x\.png\n$/);
  assert.doesNotMatch(out.summary, /wrote/);
});

Deno.test("a cancelled run says where it stopped and how to resume", () => {
  const { out, emit } = capture(true);
  const events = transferRun().slice(0, 6);
  emit([...events, {
    type: "run-finished",
    ok: false,
    aborted: true,
    seconds: 2,
    steps: [ran("photo", "load"), {
      ...ran("transfer", "style-transfer"),
      status: "cancelled",
      seconds: 2,
    }],
    outputs: [],
  }]);
  assert.match(out.status, / {2}✗ transfer \(style-transfer\) cancelled at 2\/4\n$/);
  assert.match(out.summary, /transfer +style-transfer +cancelled +2\.000\n/);
  assert.match(out.summary, /\nfinished steps are cached: run the same command to continue\n$/);
  assert.equal(out.summary.match(/cancel/g)?.length, 1);
  assert.doesNotMatch(out.summary, /wrote/);
});

Deno.test("a step whose own note said where it was cancelled is not announced twice", () => {
  const { out, emit } = capture(false);
  emit([...transferRun().slice(0, 6), {
    type: "step-note",
    step: "transfer",
    message: "cancelled at 2/4; checkpoint at iteration 2 kept, run the same command to resume",
  }, {
    type: "run-finished",
    ok: false,
    aborted: true,
    seconds: 2,
    steps: [ran("photo", "load"), { ...ran("transfer", "style-transfer"), status: "cancelled" }],
    outputs: [],
  }]);
  assert.equal(out.status.match(/cancelled/g)?.length, 1, out.status);
});

Deno.test("--quiet prints only the files written; --verbose logs progress by tenths", () => {
  const quiet = capture(false, "quiet");
  quiet.emit(transferRun());
  assert.equal(quiet.out.status, "");
  assert.equal(quiet.out.summary, "wrote out/x.png\n");

  const verbose = capture(false, "verbose");
  verbose.emit(transferRun());
  assert.match(verbose.out.status, /… transfer \(style-transfer\) key k2\n/);
  assert.equal(verbose.out.status.match(/it \d\/4/g)?.length, 4);
});

Deno.test("liveLine computes one ETA when the stage gives none; formatSeconds", () => {
  const line = liveLine({
    step: "s",
    stage: "resize",
    elapsed: 3,
    progress: { fraction: 0.25 },
  });
  assert.match(line, /… s \| ETA 9\.0 s \| 25% \[.*\] \| \(resize\)$/);
  // A stage counting iterations without an ETA yet (its first, warm-up iteration) shows none.
  const first = liveLine({
    step: "s",
    stage: "style-transfer",
    elapsed: 5,
    progress: { iteration: 55, total: 100, fraction: 0.55 },
  });
  assert.doesNotMatch(first, /ETA/);
  assert.equal(formatSeconds(0.25), "250 ms");
  assert.equal(formatSeconds(12.34), "12.3 s");
  assert.equal(formatSeconds(245), "4 min 05 s");
});

Deno.test("liveLine shows the tile being evaluated beside the iteration", () => {
  const line = liveLine({
    step: "t",
    stage: "style-transfer",
    elapsed: 10,
    progress: { iteration: 3, total: 10, tile: 7, tiles: 12, loss: 2.5 },
  });
  assert.match(line, /it 3\/10 \| loss 2\.500 \| tile 7\/12/);
});
