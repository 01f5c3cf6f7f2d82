import assert from "node:assert/strict";
import { combinations, expandSteps } from "../../src/recipe/matrix.ts";
import type { RawStep } from "../../src/recipe/recipe.ts";

const raw = (i: number, s: Omit<RawStep, "path">): RawStep => ({ ...s, path: ["steps", i] });

Deno.test("`id[*]` gathers every matrix instance of a step, in combination order, into one step", () => {
  const steps = [
    raw(0, { id: "photo", use: "load", with: { path: "${content}" } }),
    raw(1, { id: "styled", use: "adjust", from: "photo", with: { gamma: "${g}" } }),
    raw(2, { id: "sheet", use: "contact-sheet", from: { images: "styled[*]" } }),
    raw(3, { id: "both", use: "contact-sheet", from: ["photo[*]", "styled[*]"] }),
  ];
  const combos = combinations([
    { key: "content", values: ["a.jpg", "b.jpg"] },
    { key: "g", values: [1, 2] },
  ]);
  const out = expandSteps(steps, {}, combos, () => {});
  const sheets = out.filter((s) => s.use === "contact-sheet");
  assert.deepEqual(sheets.map((s) => s.id), ["sheet", "both"], "gathering steps are not split");
  assert.deepEqual(sheets[0].from, {
    images: ["styled-a-1", "styled-a-2", "styled-b-1", "styled-b-2"],
  });
  assert.deepEqual(sheets[1].from, [
    "photo-a",
    "photo-b",
    "styled-a-1",
    "styled-a-2",
    "styled-b-1",
    "styled-b-2",
  ]);
});

Deno.test("a gathered step that the matrix does not split is one reference", () => {
  const steps = [
    raw(0, { id: "photo", use: "load", with: { path: "a.jpg" } }),
    raw(1, { id: "graded", use: "adjust", from: "photo", with: { gamma: "${g}" } }),
    raw(2, { id: "sheet", use: "contact-sheet", from: { images: "photo[*]" } }),
  ];
  const out = expandSteps(steps, {}, combinations([{ key: "g", values: [1, 2] }]), () => {});
  assert.deepEqual(out.find((s) => s.id === "sheet")!.from, { images: ["photo"] });
});

Deno.test("without matrix:, `id[*]` is the step itself", async () => {
  const { parseRecipe } = await import("../../src/recipe/load.ts");
  const recipe = await parseRecipe(
    `version: 1
steps:
  - { id: a, use: load, with: { path: a.png } }
  - { id: sheet, use: contact-sheet, from: { images: "a[*]" } }
`,
    "/tmp/gather.yaml",
    {},
  );
  assert.deepEqual(recipe.steps.find((s) => s.id === "sheet")!.inputs, { images: ["a"] });
});
