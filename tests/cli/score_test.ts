/** `deno task score` as a user runs it: exit codes and the JSON line. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testImagesDir, testWeightsDirs } from "../stages/_context.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));

async function score(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(repo, "mod.ts"), "score", ...args],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
    env: {
      NO_COLOR: "1",
      STYLEPIPE_WEIGHTS: testWeightsDirs()[0],
      STYLEPIPE_IMAGES: testImagesDir(),
    },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("score: usage errors exit 2", async () => {
  const missing = await score(["tubingen.jpg", "--content", "tubingen.jpg"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /expected OUTPUT, --content and --style/);
  const nowhere = await score(["nope.png", "--content", "tubingen.jpg", "--style", "x.jpg"]);
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /image "nope.png" not found/);
});

Deno.test("score: the photo against itself has content distance 0", async () => {
  // --size 32 resizes the output like the content is resized to it: the same pixels.
  const r = await score([
    "tubingen.jpg",
    "--content",
    "tubingen.jpg",
    "--style",
    "starry_night.jpg",
    "--size",
    "32",
    "--engine",
    "wasm",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(line.type, "score");
  assert.equal(line.content, 0);
  assert.ok(line.style > 1, `style distance ${line.style}`);
});
