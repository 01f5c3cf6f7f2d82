/**
 * Resource refusals as a user meets them (issue 12, finding 5 and 1): exit codes and messages of
 * `render` for a step whose estimate exceeds the memory budget even tiled (and `--force`), and of
 * `validate` for an oversized image header and a schedule folder name that leaves the output folder.
 */
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { repo, runCli } from "./_cli.ts";
import { blankPng, truncatedPng } from "../image/_blank_png.ts";

const weights = resolve(Deno.env.get("STYLEPIPE_WEIGHTS") ?? join(repo, "../shared/weights"));

function cli(args: string[], cwd: string) {
  return runCli(args, cwd, { STYLEPIPE_WEIGHTS: weights, STYLEPIPE_IMAGES: cwd });
}

const transfer = (size: number) =>
  `version: 1
engine: cpu
steps:
  - { id: c, use: load, with: { path: big.png } }
  - { id: s, use: load, with: { path: big.png } }
  - id: f
    use: extract-features
    from: { content: c, style: [s] }
    with: { content_layers: [relu2_1], style_layers: [relu1_1, relu2_1] }
  - { id: t, use: style-transfer, from: f, with: { iterations: 1 } }
  - { id: o, use: save, from: t, with: { path: "out-${size}.png" } }
`;

Deno.test("render refuses a step that needs more than the memory budget even tiled, unless --force", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "big.png"), truncatedPng(9000, 9000));
  await Deno.writeTextFile(join(dir, "r.yaml"), transfer(9000));
  // 81 megapixels: the images fit 4 GiB (3.9 GB held), the transfer does not even tiled (its
  // relu2_1 content target alone is 10 GB).
  const plan = await cli(["plan", "r.yaml", "--json", "--memory", "4GiB"], dir);
  assert.equal(plan.code, 0, plan.stdout);
  const rows = JSON.parse(plan.stdout).steps as { step: string; bytes?: number }[];
  assert.ok(rows.find((r) => r.step === "t")!.bytes! > 4 * 1024 ** 3);
  // --memory is the images' budget too: at 1 GiB decoding them is refused, at plan time.
  const small = await cli(["plan", "r.yaml", "--memory", "1GiB"], dir);
  assert.equal(small.code, 2, small.stderr);
  assert.match(
    small.stderr,
    /decoding image .*big\.png.* over the memory budget of 1074 MB; .*--memory/,
  );
  const refused = await cli(["render", "r.yaml", "--no-cache", "--memory", "4GiB"], dir);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /r\.yaml:10:5: step "t": needs about [\d.]+ GiB of memory even tiled, more than the budget of 4\.0 GiB; .*--force/,
  );
  // With --force it starts (and here fails on the truncated image: exit 1, nothing written).
  const forced = await cli(["render", "r.yaml", "--no-cache", "--force", "--memory", "4GiB"], dir);
  assert.equal(forced.code, 1, forced.stderr);
  assert.match(forced.stderr, /cannot decode image/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("validate exits 2 for an image over the pixel limit and a schedule name with ..", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "huge.png"), blankPng(16000, 16000));
  await Deno.writeTextFile(
    join(dir, "r.yaml"),
    `version: 1\nname: ../../victim\nsteps:\n  - { id: p, use: load, with: { path: huge.png } }\n`,
  );
  const r = await cli(["validate", "r.yaml"], dir);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.match(lines[0], /^r\.yaml:2:7: "name:" must be a folder name/);
  assert.equal(lines.length, 1, "the name is reported before the plan reads the image");
  await Deno.writeTextFile(
    join(dir, "r.yaml"),
    `version: 1\nsteps:\n  - { id: p, use: load, with: { path: huge.png } }\n`,
  );
  const h = await cli(["validate", "r.yaml"], dir);
  assert.equal(h.code, 2, h.stderr);
  assert.match(
    h.stderr,
    /^r\.yaml:3:39: step "p": image ".*huge\.png" is 16000×16000 = 256\.0 megapixels/,
  );
  await Deno.remove(dir, { recursive: true });
});
