/** The README's library example, run from a project of its own; the package publishes. */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./stages/_context.ts";

Deno.test({
  name:
    "README library example runs from a project without stylepipe's deno.json (--no-config, by path)",
  sanitizeResources: false,
  async fn() {
    const readme = await Deno.readTextFile(join(repoRoot, "README.md"));
    const section = readme.slice(readme.indexOf("## Using stylepipe as a library"));
    const example = section.match(/```ts\n([\s\S]*?)```/)![1];
    assert.match(example, /from "\.\.\/stylepipe\/mod\.ts"/);
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-library-" });
    try {
      const mod = pathToFileURL(join(repoRoot, "mod.ts")).href;
      await Deno.writeTextFile(join(dir, "main.ts"), example.replace("../stylepipe/mod.ts", mod));
      await Deno.copyFile(
        join(repoRoot, "pipelines/photo-basics.yaml"),
        join(dir, "photo-basics.yaml"),
      );
      // --check: the type check of mod.ts and everything it imports, without our import map.
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--check", "-A", "--no-config", "main.ts"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        env: {
          NO_COLOR: "1",
          STYLEPIPE_IMAGES: resolve(
            Deno.env.get("STYLEPIPE_IMAGES") ?? join(repoRoot, "../shared/images"),
          ),
        },
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /\[ "small\.png" \]/);
      const png = await Deno.readFile(join(dir, "out", "small.png"));
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the package is publishable: deno publish --dry-run succeeds",
  sanitizeResources: false,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["publish", "--dry-run", "--allow-dirty"],
      cwd: repoRoot,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /Success Dry run complete/);
    assert.match(text, /LICENSE/);
  },
});
