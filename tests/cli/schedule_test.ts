import assert from "node:assert/strict";
import { join } from "node:path";
import { encodePng } from "../../src/image/codecs.ts";
import { atomicWrite } from "../../src/util/atomic_write.ts";
import { repoRoot } from "../stages/_context.ts";

const RECIPE = `version: 1
name: nightly
schedule: "* * * * * *"
steps:
  - { id: photo, use: load, with: { path: input.png } }
  - { id: bigger, use: resize, from: photo, with: { width: 6, filter: nearest } }
  - { id: final, use: save, from: bigger, with: { path: final.png } }
`;

async function writeInput(dir: string, level: number): Promise<void> {
  const data = new Float32Array(3 * 2 * 3).fill(level);
  // Atomic: the scheduler may read the input at any moment.
  await atomicWrite(join(dir, "input.png"), await encodePng({ width: 3, height: 2, data }));
}

Deno.test({
  name:
    "schedule: per-second cron renders, skips an unchanged run, renders new inputs, stops on SIGTERM",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "mod.ts",
        "schedule",
        join(dir, "recipe.yaml"),
        "--out-dir",
        join(dir, "out"),
        "--cache-dir",
        join(dir, "cache"),
      ],
      cwd: repoRoot,
      stdout: "piped",
      stderr: "piped",
    });
    await Deno.writeTextFile(join(dir, "recipe.yaml"), RECIPE);
    await writeInput(dir, 0.25);
    const proc = child.spawn();
    const kill = setTimeout(() => proc.kill("SIGKILL"), 40_000); // bound the test
    const entries: Record<string, unknown>[] = [];
    try {
      const lines = proc.stdout.pipeThrough(new TextDecoderStream()).values();
      let buffered = "";
      const next = async (type: string): Promise<Record<string, unknown>> => {
        while (true) {
          const nl = buffered.indexOf("\n");
          if (nl >= 0) {
            const entry = JSON.parse(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
            entries.push(entry);
            if (entry.type === type) return entry;
            continue;
          }
          const chunk = await lines.next();
          if (chunk.done) throw new Error(`no "${type}" line; got ${JSON.stringify(entries)}`);
          buffered += chunk.value;
        }
      };
      const first = await next("rendered");
      assert.deepEqual(first.ran, ["photo", "bigger", "final"]);
      // Step events keep their own "type" (they once lost it to the log line's).
      assert.deepEqual(
        entries.filter((e) => e.type === "step-finished").map((e) => e.step),
        ["photo", "bigger", "final"],
      );
      const skipped = await next("skipped");
      assert.ok(Date.parse(skipped.due as string) > Date.parse(first.due as string));
      await writeInput(dir, 0.75); // new input: the next occurrence renders again
      const second = await next("rendered");
      assert.deepEqual(second.ran, ["photo", "bigger", "final"]);
      proc.kill("SIGTERM");
      await next("stopped");
      const status = await proc.status;
      assert.equal(status.code, 0);

      // Each render wrote under its own timestamped folder, with provenance.
      const outputs = [first, second].map((e) => (e.outputs as string[])[0]);
      assert.notEqual(outputs[0], outputs[1]);
      for (const out of outputs) {
        assert.match(out, /out\/nightly\/\d{8}T\d{6}Z\/final\.png$/);
        assert.ok((await Deno.stat(`${out}.json`)).isFile);
      }
      assert.equal(entries.filter((e) => e.type === "failed").length, 0);
    } finally {
      clearTimeout(kill);
      await proc.stderr.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
