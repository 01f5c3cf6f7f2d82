/**
 * The one error path: every family of user errors gets its exit code and one `error:` line with no
 * hint; only an error outside the family (a fault in stylepipe) suggests `--debug`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./_cli.ts";
import { exitCodeOf, messagesOf, UsageError } from "../../src/cli/errors.ts";
import { QueueUnreachableError, QueueUrlError } from "../../src/farm/connection.ts";
import { CodecError } from "../../src/image/codecs.ts";
import { PngFormatError } from "../../src/image/png_text.ts";
import { EngineUnavailableError } from "../../src/neural/engines/engine.ts";
import { WeightsError } from "../../src/neural/models/weights_error.ts";
import { StateFormatError } from "../../src/neural/optim/state_codec.ts";
import { LayerUnavailableError } from "../../src/neural/plan/network.ts";
import { CacheFolderError } from "../../src/pipeline/cache.ts";
import { ProvenanceError } from "../../src/pipeline/provenance.ts";
import { RunAbortedError, StepFailedError } from "../../src/pipeline/run.ts";
import { ScheduleError } from "../../src/pipeline/schedule.ts";
import { CorruptEntryError, UnserializableValueError } from "../../src/pipeline/serialize.ts";
import { RecipeError } from "../../src/recipe/errors.ts";
import { LossChartError } from "../../src/report/loss_chart.ts";
import { StageError } from "../../src/stages/stage.ts";
import { CheckpointFormatError } from "../../src/util/checkpoint_codec.ts";
import { messageOf, type StylepipeError } from "../../src/util/errors.ts";
import { createImage } from "../../src/image/image.ts";
import { encodePng } from "../../src/image/codecs.ts";

const HINT = "(run with --debug for details)";

/** [a user error of each family, its exit code]. */
const families: [StylepipeError, number][] = [
  [new UsageError("render: unknown option --bogus"), 2],
  [new QueueUrlError('--queue "http://x": expected redis://HOST:PORT[/DB]'), 2],
  [new RunAbortedError(), 130],
  [new StepFailedError("photo", new StageError("cannot decode image")), 1],
  [new StageError("cannot decode image"), 1],
  [new CodecError("not a readable image"), 1],
  [new PngFormatError("bad chunk"), 1],
  [new CheckpointFormatError("truncated"), 1],
  [new StateFormatError("truncated"), 1],
  [new ProvenanceError("no provenance"), 1],
  [new CorruptEntryError("checksum"), 1],
  [new UnserializableValueError("a function"), 1],
  [new ScheduleError("invalid cron expression"), 1],
  [new EngineUnavailableError("cuda", "no CUDA driver here"), 1],
  [new LayerUnavailableError("conv5_1", "no conv5_1 in these weights"), 1],
  [new WeightsError("no vgg19 weights found"), 1],
  [new QueueUnreachableError("cannot reach Redis"), 1],
  [new LossChartError("no positive loss values to plot"), 1],
  [new CacheFolderError("cannot use the cache folder file"), 1],
];

Deno.test("errors: each user error family → its exit code, one `error:` line, no --debug hint", () => {
  for (const [e, code] of families) {
    assert.equal(exitCodeOf(e), code, e.name);
    assert.deepEqual(messagesOf(e, false), [`error: ${e.message}`], e.name);
    const debug = messagesOf(e, true);
    assert.equal(debug[0], `error: ${e.message}`);
    assert.match(debug[1], new RegExp(`^${e.name}: `), `${e.name}: the stack with --debug`);
  }
});

Deno.test("errors: a recipe error → exit 2, one positioned line per issue, no prefix or hint", () => {
  const e = new RecipeError([
    { file: "r.yaml", pos: { line: 7, col: 3 }, step: "b", message: "unknown stage" },
    { file: "r.yaml", pos: { line: 2, col: 9 }, message: 'unknown key "stpes"' },
  ]);
  assert.equal(exitCodeOf(e), 2);
  assert.deepEqual(messagesOf(e, false), [
    'r.yaml:2:9: unknown key "stpes"',
    'r.yaml:7:3: step "b": unknown stage',
  ]);
  assert.deepEqual(e.position, { file: "r.yaml", line: 2, col: 9 });
});

Deno.test("errors: a position prefixes the message as file:line:col", () => {
  const e = new StageError("not a number", { position: { file: "n.txt", line: 3, col: 14 } });
  assert.equal(e.message, "n.txt:3:14: not a number");
  assert.deepEqual(messagesOf(e, false), ["error: n.txt:3:14: not a number"]);
});

Deno.test("errors: an unknown error → exit 1 and the --debug hint (also inside a failed step)", () => {
  const bug = new TypeError("x is undefined");
  for (const e of [bug, "a thrown string", new StepFailedError("s", bug)]) {
    assert.equal(exitCodeOf(e), 1);
    assert.deepEqual(messagesOf(e, false), [`error: ${messageOf(e)}`, HINT]);
  }
  assert.deepEqual(messagesOf(new StepFailedError("s", bug), false), [
    'error: step "s": x is undefined',
    HINT,
  ]);
  const debug = messagesOf(new StepFailedError("s", bug), true);
  assert.match(debug.at(-1)!, /^caused by: TypeError: x is undefined\n\s+at /);
});

Deno.test("errors: messageOf is the message of an Error, else the thrown value as text", () => {
  assert.equal(messageOf(new RangeError("out of range")), "out of range");
  assert.equal(messageOf(42), "42");
  assert.equal(messageOf(undefined), "undefined");
});

Deno.test("cli: an engine that cannot run → exit 1, one line, no --debug hint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-errors-" });
  await Deno.writeFile(join(dir, "a.png"), await encodePng(createImage(4, 4, 0.5)));
  const r = await runCli(
    ["score", "a.png", "--content", "a.png", "--style", "a.png", "--engine", "bogus"],
    dir,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: unknown engine "bogus"; engines: auto, [^\n]+\n$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: an output that is not there → exit 1, one line, no --debug hint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-errors-" });
  for (const command of ["plot", "verify", "recipe"]) {
    const r = await runCli([command, "missing.png"], dir);
    assert.equal(r.code, 1, `${command}: ${r.stderr}`);
    assert.equal(r.stderr, "error: cannot read missing.png: no such file\n", command);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: a cache folder that is a file → exit 1, one line, no --debug hint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-errors-" });
  await Deno.writeFile(join(dir, "a.png"), await encodePng(createImage(4, 4, 0.5)));
  await Deno.writeTextFile(
    join(dir, "r.yaml"),
    "version: 1\nsteps:\n  - { id: a, use: load, with: { path: a.png } }\n" +
      "  - { id: s, use: save, from: a, with: { path: b.png } }\n",
  );
  await Deno.writeTextFile(join(dir, "file"), "");
  const r = await runCli(["render", "r.yaml", "--cache-dir", "file"], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: cannot use the cache folder file: [^\n]+\n$/);
  await Deno.remove(dir, { recursive: true });
});
