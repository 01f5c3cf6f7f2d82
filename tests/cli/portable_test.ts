/**
 * Provenance that travels: the same recipe rendered in two folders gives the same bytes; `recipe`
 * prints a recipe that renders them again; `verify` finds inputs by path, lookup folder or hash.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./_cli.ts";
import { encodePng } from "../../src/image/codecs.ts";
import { extractProvenance } from "../../src/pipeline/provenance.ts";
import { synthImage } from "../image/_images.ts";

function cli(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runCli(args, cwd, { STYLEPIPE_IMAGES: "", ...env });
}

const RECIPE = `version: 1
name: portable
vars: { size: 6, out: small.png }
steps:
  - { id: photo, use: load, with: { path: photo.png } }
  - { id: small, use: resize, from: photo, with: { max_side: "\${size}" } }
  - { id: graded, use: adjust, from: small, with: { contrast: 1.2 } }
  - { id: final, use: save, from: graded, with: { path: "\${out}" } }
`;
const photo = await encodePng(synthImage(12, 8, (x, y) => [x / 11, y / 7, 0.4]));

/** A checkout: the recipe and its photo in a fresh temporary folder. */
async function checkout(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.writeTextFile(join(dir, "recipe.yaml"), RECIPE);
  await Deno.writeFile(join(dir, "photo.png"), photo);
  return dir;
}

Deno.test("two checkouts in different folders render identical bytes; recipe prints a recipe that renders them again", async () => {
  const a = await checkout("stylepipe-alice-");
  const b = await checkout("stylepipe-bob-project-");
  const c = await Deno.makeTempDir({ prefix: "stylepipe-carol-" });
  try {
    for (const dir of [a, b]) {
      const r = await cli(["render", "recipe.yaml", "--set", "size=5"], dir);
      assert.equal(r.code, 0, r.stderr);
    }
    const [bytesA, bytesB] = await Promise.all(
      [a, b].map((d) => Deno.readFile(join(d, "out", "small.png"))),
    );
    assert.deepEqual(bytesA, bytesB, "same recipe in two folders: same bytes");
    const text = new TextDecoder("latin1").decode(bytesA);
    for (const dir of [a, b]) assert.ok(!text.includes(dir), "no local folder in the file");
    const record = extractProvenance(bytesA);
    assert.deepEqual(record.inputs.map((i) => [i.path, i.found]), [["photo.png", "recipe"]]);
    assert.equal(record.recipe.file, "recipe.yaml");
    assert.match(record.versions.codecs.libvips, /^\d+\.\d+/);

    // `recipe` → a recipe with --set applied, which renders the same bytes elsewhere
    const printed = await cli(["recipe", join(a, "out", "small.png")], c);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /max_side: 5/);
    assert.match(printed.stdout, /# input photo\.png: sha256 [0-9a-f]{64}/);
    await Deno.writeTextFile(join(c, "recipe.yaml"), printed.stdout);
    await Deno.writeFile(join(c, "photo.png"), photo);
    const again = await cli(["render", "recipe.yaml"], c);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await Deno.readFile(join(c, "out", "small.png")), bytesA);
  } finally {
    for (const d of [a, b, c]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("verify finds inputs beside the output, in the lookup folders, or by hash (renamed)", async () => {
  const a = await checkout("stylepipe-verify-");
  const d = await Deno.makeTempDir({ prefix: "stylepipe-elsewhere-" });
  try {
    assert.equal((await cli(["render", "recipe.yaml"], a)).code, 0);
    // Only the PNG travels (no sidecar); the photo sits in a lookup folder under another name.
    await Deno.copyFile(join(a, "out", "small.png"), join(d, "shared.png"));
    await Deno.mkdir(join(d, "images"));
    await Deno.writeFile(join(d, "images", "renamed.png"), photo);
    const env = { STYLEPIPE_IMAGES: join(d, "images") };
    const byHash = await cli(["verify", "shared.png"], d, env);
    assert.equal(byHash.code, 0, byHash.stdout + byHash.stderr);
    assert.match(byHash.stdout, /identical pixels/);
    assert.match(byHash.stdout, /found by its hash as .*renamed\.png/);
    // Under its recorded name in the lookup folder: the very same bytes.
    await Deno.rename(join(d, "images", "renamed.png"), join(d, "images", "photo.png"));
    const byName = await cli(["verify", "shared.png"], d, env);
    assert.equal(byName.code, 0, byName.stdout + byName.stderr);
    assert.match(byName.stdout, /identical \(same bytes/);
    // Nowhere: a note that says what is missing.
    await Deno.remove(join(d, "images", "photo.png"));
    const missing = await cli(["verify", "shared.png"], d, env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout + missing.stderr, /photo\.png/);
  } finally {
    for (const dir of [a, d]) await Deno.remove(dir, { recursive: true });
  }
});
