/**
 * Kill-and-resume, for real: a `render` subprocess is killed with SIGKILL once a style-transfer
 * checkpoint is on disk; the same command run again resumes from it and writes the same bytes as an
 * uninterrupted render. `verify` then re-renders that output from its provenance: identical.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyCommand } from "../../src/cli/verify.ts";
import { extractProvenance } from "../../src/pipeline/provenance.ts";
import { repoRoot, testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const ITERATIONS = 60;
const EVERY = 10;

const RECIPE = `version: 1
name: resume
seed: 5
engine: onnx
steps:
  - { id: content, use: load, with: { path: tubingen.jpg } }
  - { id: small, use: resize, from: content, with: { max_side: 24 } }
  - { id: style, use: load, with: { path: starry_night.jpg } }
  - id: features
    use: extract-features
    from: { content: small, style: style }
    with: { content_layers: [relu3_2], style_layers: [relu1_1, relu2_1, relu3_1] }
  - id: transfer
    use: style-transfer
    from: features
    with: { iterations: ${ITERATIONS}, checkpoint_every: ${EVERY} }
  - { id: final, use: save, from: transfer, with: { path: final.png } }
`;

const env = {
  STYLEPIPE_IMAGES: testImagesDir(),
  STYLEPIPE_WEIGHTS: testWeightsDirs()[0],
};

function render(dir: string, out: string, cache: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "render", join(dir, "recipe.yaml"), "--json"]
      .concat(["--out-dir", join(dir, out), "--cache-dir", join(dir, cache)]),
    cwd: repoRoot,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(p: Deno.ChildProcess): Promise<Record<string, unknown>[]> {
  const { code, stdout, stderr } = await p.output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `render failed: ${text}\n${new TextDecoder().decode(stderr)}`);
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

/** The first style-transfer checkpoint file under the cache, once one exists. */
async function checkpointFile(cache: string): Promise<string | undefined> {
  try {
    for await (const key of Deno.readDir(join(cache, "checkpoints"))) {
      const file = join(cache, "checkpoints", key.name, "style-transfer");
      if (await Deno.stat(file).then((s) => s.isFile, () => false)) return file;
    }
  } catch {
    return undefined;
  }
}

Deno.test({
  name: "SIGKILL mid style-transfer, run again: resumes from the checkpoint, identical PNG bytes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(dir, "recipe.yaml"), RECIPE);

      // Uninterrupted reference.
      await finish(render(dir, "a", "cache-a"));
      const reference = await Deno.readFile(join(dir, "a", "final.png"));

      // Killed once a checkpoint is on disk.
      const victim = render(dir, "b", "cache-b");
      const deadline = Date.now() + 60_000;
      let file: string | undefined;
      while (!(file = await checkpointFile(join(dir, "cache-b"))) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      victim.kill("SIGKILL");
      const killed = await victim.status;
      await victim.stdout.cancel().catch(() => {});
      await victim.stderr.cancel().catch(() => {});
      assert.ok(file, "a checkpoint was written");
      assert.equal(killed.signal, "SIGKILL");
      assert.equal(await Deno.stat(join(dir, "b", "final.png")).catch(() => null), null);

      // Same command again: resumes, finishes, same bytes.
      const events = await finish(render(dir, "b", "cache-b"));
      const resumed = events.find((e) =>
        e.type === "step-progress" && (e.progress as { message?: string }).message === "resumed"
      );
      assert.ok(resumed, "the second run resumed from the checkpoint");
      const at = (resumed.progress as { iteration: number }).iteration;
      assert.ok(at >= EVERY && at < ITERATIONS && at % EVERY === 0, `resumed at ${at}`);
      const again = await Deno.readFile(join(dir, "b", "final.png"));
      assert.ok(again.length === reference.length && again.every((b, i) => b === reference[i]));
      assert.equal(await checkpointFile(join(dir, "cache-b")), undefined, "checkpoints cleared");

      // The record says how it was made; verify re-renders it (no cache): identical.
      const record = extractProvenance(again);
      assert.equal(record.engine.name, "onnx");
      assert.match(record.weights[0].id, /^[0-9a-f]{64}$/);
      assert.equal((record.results.transfer as { iterations: number }).iterations, ITERATIONS);
      for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
      const log = console.log;
      const lines: string[] = [];
      console.log = (...a: unknown[]) => lines.push(a.join(" "));
      try {
        assert.equal(await verifyCommand([join(dir, "b", "final.png")]), 0, lines.join("\n"));
      } finally {
        console.log = log;
      }
      assert.match(lines[0], /final\.png: identical \(same bytes; re-rendered with onnx/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
