/** The README's library example, run from a fresh project that links this checkout. */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { repoRoot } from "./stages/_context.ts";

Deno.test({
  name: "README library example runs in another project (links, no config of ours)",
  sanitizeResources: false,
  async fn() {
    const readme = await Deno.readTextFile(join(repoRoot, "README.md"));
    const section = readme.slice(readme.indexOf("## Using stylepipe as a library"));
    const example = section.match(/```ts\n([\s\S]*?)```/)![1];
    assert.match(example, /from "\.\.\/stylepipe\/mod\.ts"/);
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-library-" });
    try {
      // A project that links this checkout, so the checkout keeps its own import map.
      const project = {
        links: [repoRoot],
        imports: { "@stylepipe/stylepipe": "jsr:@stylepipe/stylepipe@^0.1.0" },
        nodeModulesDir: "auto",
      };
      await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(project));
      await Deno.writeTextFile(
        join(dir, "main.ts"),
        example.replace('"../stylepipe/mod.ts"', '"@stylepipe/stylepipe"'),
      );
      await Deno.copyFile(
        join(repoRoot, "pipelines/photo-basics.yaml"),
        join(dir, "photo-basics.yaml"),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts"],
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
