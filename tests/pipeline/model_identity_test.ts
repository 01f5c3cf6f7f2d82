/** Issue 22, item 6: a weights folder made of symbolic links is identified by the linked contents. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { modelIdentity } from "../../src/pipeline/model_identity.ts";

Deno.test("weights behind symbolic links are hashed by content: other targets, other identity", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const [set, bytes] of [["a", "first"], ["b", "second"]]) {
      await Deno.mkdir(join(root, set, "vgg"), { recursive: true });
      await Deno.writeTextFile(join(root, set, "vgg/model.json"), "{}");
      await Deno.writeTextFile(join(root, set, "vgg/w.bin"), bytes);
    }
    const links = join(root, "links/vgg");
    await Deno.mkdir(links, { recursive: true });
    const point = async (set: string) => {
      for (const f of ["model.json", "w.bin"]) {
        await Deno.remove(join(links, f)).catch(() => {});
        await Deno.symlink(join(root, set, "vgg", f), join(links, f));
      }
    };
    await point("a");
    const a = await modelIdentity([join(root, "a")], "vgg");
    const b = await modelIdentity([join(root, "b")], "vgg");
    assert.notEqual(a, b);
    assert.equal(await modelIdentity([join(root, "links")], "vgg"), a);
    await point("b");
    assert.equal(await modelIdentity([join(root, "links")], "vgg"), b);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
