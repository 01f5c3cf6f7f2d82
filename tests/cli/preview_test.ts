import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage } from "../../src/image/codecs.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("render --preview keeps preview.png; after the last iteration it is the output's image", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-preview-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(repo, "mod.ts"),
        "render",
        join(repo, "pipelines/tubingen-starry-conv3.yaml"),
        "--set",
        "size=32",
        "--set",
        "iterations=10",
        "--set",
        "engine=onnx",
        "--out-dir",
        dir,
        "--no-cache",
        "--preview-every",
        "5",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const preview = await decodeImage(await Deno.readFile(join(dir, "preview.png")));
    const output = await decodeImage(await Deno.readFile(join(dir, "tubingen-starry-conv3.png")));
    assert.equal(preview.width, 32);
    assert.deepEqual(preview.data, output.data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
