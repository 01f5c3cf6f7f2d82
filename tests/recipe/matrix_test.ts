import assert from "node:assert/strict";
import { join } from "node:path";
import { combinations, combinationVars, expandSteps, matrixAxes } from "../../src/recipe/matrix.ts";
import type { RawStep } from "../../src/recipe/recipe.ts";
import type { UndefinedVar } from "../../src/recipe/interpolate.ts";

const raw = (i: number, s: Omit<RawStep, "path">): RawStep => ({ ...s, path: ["steps", i] });

/** A style-transfer shaped recipe: contents × styles. */
const STEPS: RawStep[] = [
  raw(0, { id: "content", use: "load", with: { path: "${content}" } }),
  raw(1, { id: "style", use: "load", with: { path: "${style}" } }),
  raw(2, { id: "targets", use: "extract-features", from: { style: "style" }, with: { size: 16 } }),
  raw(3, {
    id: "stylized",
    use: "style-transfer",
    from: { content: "content", features: "targets" },
    with: { iterations: "${iters}" },
  }),
  raw(4, {
    id: "final",
    use: "save",
    from: "stylized",
    with: { path: "out/${content_name}-${style_name}.png" },
  }),
];

Deno.test("2 contents × 2 styles: shared steps once per distinct input, ids say what varies", () => {
  const combos = combinations([
    { key: "content", values: ["photos/a.jpg", "b.jpg"] },
    { key: "style", values: ["styles/starry night.jpg", "scream.png"] },
  ]);
  assert.equal(combos.length, 4);
  const missing: UndefinedVar[] = [];
  const out = expandSteps(STEPS, { iters: 5 }, combos, (m) => missing.push(m));
  assert.deepEqual(missing, []);
  const ids = out.map((s) => s.id);
  assert.deepEqual(ids, [
    "content-a",
    "content-b",
    "style-starry_night",
    "style-scream",
    "targets-starry_night",
    "targets-scream",
    "stylized-a-starry_night",
    "stylized-a-scream",
    "stylized-b-starry_night",
    "stylized-b-scream",
    "final-a-starry_night",
    "final-a-scream",
    "final-b-starry_night",
    "final-b-scream",
  ]);
  const byId = new Map(out.map((s) => [s.id as string, s]));
  assert.deepEqual(byId.get("targets-scream")!.from, { style: "style-scream" });
  assert.deepEqual(byId.get("stylized-b-starry_night")!.from, {
    content: "content-b",
    features: "targets-starry_night",
  });
  assert.deepEqual(byId.get("stylized-b-starry_night")!.with, { iterations: 5 });
  assert.deepEqual(byId.get("final-b-scream")!.with, { path: "out/b-scream.png" });
  assert.equal(byId.get("final-b-scream")!.from, "stylized-b-scream");
  assert.deepEqual(byId.get("content-a")!.with, { path: "photos/a.jpg" });
  // Positions still point at the original step.
  assert.deepEqual(byId.get("final-a-scream")!.path, ["steps", 4]);
});

Deno.test("a step that does not depend on the matrix stays one step with its own id", () => {
  const steps = [
    raw(0, { id: "logo", use: "load", with: { path: "logo.png" } }),
    raw(1, { id: "c", use: "load", with: { path: "${content}" } }),
    raw(2, { id: "mix", use: "blend", from: ["c", "logo"], with: {} }),
  ];
  const out = expandSteps(steps, {}, combinations([{ key: "content", values: [1, 2] }]), () => {});
  assert.deepEqual(out.map((s) => s.id), ["logo", "c-1", "c-2", "mix-1", "mix-2"]);
  assert.deepEqual(out[4].from, ["c-2", "logo"]);
});

Deno.test("undefined variables are reported once per place, with the step id", () => {
  const got: [string, string | undefined][] = [];
  expandSteps(
    STEPS.slice(0, 1).concat(raw(1, { id: "x", use: "load", with: { path: "${nope}" } })),
    {},
    combinations([{ key: "content", values: ["a", "b", "c"] }]),
    (m, id) => got.push([`${m.path.join(".")}:${m.name}`, id]),
  );
  assert.deepEqual(got, [["steps.1.with.path:nope", "x"]]);
});

Deno.test("matrix axes: lists, single values and globs (recipe folder, then image folders)", async () => {
  const dir = await Deno.makeTempDir();
  const images = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "styles"));
    for (const f of ["b.jpg", "a.jpg", "notes.txt"]) {
      await Deno.writeFile(join(dir, "styles", f), new Uint8Array(1));
    }
    await Deno.writeFile(join(images, "x.jpg"), new Uint8Array(1));
    const problems: string[] = [];
    const axes = await matrixAxes(
      {
        style: "styles/*.jpg",
        content: ["c1.jpg", "c2.jpg"],
        size: 24,
        extra: "*.jpg",
        none: "*.gif",
      },
      [dir, images],
      (p, m) => problems.push(`${p.join(".")}: ${m}`),
    );
    assert.deepEqual(axes, [
      { key: "style", values: ["styles/a.jpg", "styles/b.jpg"] },
      { key: "content", values: ["c1.jpg", "c2.jpg"] },
      { key: "size", values: [24] },
      { key: "extra", values: ["x.jpg"] },
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^matrix\.none: "\*\.gif" matches no file/);
    assert.deepEqual(combinationVars({ style: "styles/a.jpg", size: 24 }), {
      style: "styles/a.jpg",
      style_name: "a",
      size: 24,
      size_name: "24",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(images, { recursive: true });
  }
});
