/**
 * Small stages for recipe and pipeline tests (no codecs, no engines): they make, change, mix and
 * write tiny images and count how often they run.
 */
import { z } from "zod";
import { createImage, type RgbImage } from "../../src/image/image.ts";
import { StageRegistry } from "../../src/stages/registry.ts";
import { imageOf, type Stage, StageError, type Value } from "../../src/stages/stage.ts";
import { atomicWrite } from "../../src/util/atomic_write.ts";
import { sha256Hex } from "../../src/util/hash.ts";

/** How many times each test stage ran (reset it between tests). */
export const runs = new Map<string, number>();
const count = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);

const image = (img: RgbImage): Value => ({ kind: "image", image: img });
const map = (img: RgbImage, f: (v: number) => number): RgbImage => ({
  ...img,
  data: img.data.map(f),
});

/** `gen`: a flat image. */
export const genStage: Stage<{ width: number; height: number; value: number }> = {
  name: "gen",
  version: 1,
  description: "a flat image",
  params: z.object({
    width: z.number().int().positive().default(2),
    height: z.number().int().positive().default(2),
    value: z.number().min(0).max(1).describe("grey level"),
  }).strict(),
  inputs: {},
  output: "image",
  shape: (_i, p) => ({ width: p.width, height: p.height }),
  run(_ctx, _inputs, p) {
    count("gen");
    return Promise.resolve(image(createImage(p.width, p.height, p.value)));
  },
};

/** `add`: adds a constant. */
export const addStage: Stage<{ amount: number }> = {
  name: "add",
  version: 1,
  description: "adds a constant",
  params: z.object({ amount: z.number().default(0.1) }).strict(),
  inputs: { image: { kind: "image" } },
  output: "image",
  shape: (i) => i.image,
  run(_ctx, inputs, p) {
    count("add");
    return Promise.resolve(image(map(imageOf(inputs.image, "image"), (v) => v + p.amount)));
  },
};

/** `mix`: mean of two images. */
export const mixStage: Stage<Record<string, never>> = {
  name: "mix",
  version: 1,
  description: "mean of two images",
  params: z.object({}).strict(),
  inputs: { a: { kind: "image" }, b: { kind: "image" } },
  output: "image",
  run(_ctx, inputs) {
    count("mix");
    const a = imageOf(inputs.a, "a");
    const b = imageOf(inputs.b, "b");
    return Promise.resolve(image({ ...a, data: a.data.map((v, i) => (v + b.data[i]) / 2) }));
  },
};

/** `stack`: mean of any number of images (a `many` input). */
export const stackStage: Stage<Record<string, never>> = {
  name: "stack",
  version: 1,
  description: "mean of several images",
  params: z.object({}).strict(),
  inputs: { images: { kind: "image", many: true } },
  output: "image",
  run(_ctx, inputs) {
    count("stack");
    const list = (inputs.images as Value[]).map((v) => imageOf(v, "images"));
    const out = createImage(list[0].width, list[0].height);
    for (const img of list) img.data.forEach((v, i) => out.data[i] += v / list.length);
    return Promise.resolve(image(out));
  },
};

/** `number`: reads a text file holding a number into a 1×1 image (an input file via `path`). */
export const numberStage: Stage<{ path: string }> = {
  name: "number",
  version: 1,
  description: "reads a number from a text file",
  params: z.object({ path: z.string() }).strict(),
  inputs: {},
  output: "image",
  async run(ctx, _inputs, p) {
    count("number");
    const text = await Deno.readTextFile(await ctx.paths.input(p.path));
    return image(createImage(1, 1, Number(text)));
  },
};

/** `write`: writes the image's samples (text) into the output folder. */
export const writeStage: Stage<{ path: string }> = {
  name: "write",
  version: 1,
  description: "writes samples as text",
  params: z.object({ path: z.string() }).strict(),
  inputs: { image: { kind: ["image", "file"] } },
  output: "file",
  writesFiles: true,
  async run(ctx, inputs, p) {
    count("write");
    const img = imageOf(inputs.image, "image");
    const path = ctx.paths.output(p.path);
    const text = [...img.data].map((v) => v.toFixed(4)).join(" ") + "\n";
    await atomicWrite(path, text);
    return { kind: "file", path, sha256: sha256Hex(text), image: img };
  },
};

/** `targets`: a features value (to test input kinds). */
export const targetsStage: Stage<Record<string, never>> = {
  name: "targets",
  version: 1,
  description: "features from an image",
  params: z.object({}).strict(),
  inputs: { image: { kind: "image" } },
  output: "features",
  run(_ctx, inputs) {
    const img = imageOf(inputs.image, "image");
    return Promise.resolve({
      kind: "features",
      features: {
        model: "test",
        weightsId: "none",
        pooling: "avg",
        width: img.width,
        height: img.height,
        content: [],
        style: [],
        contentImage: img,
        styleImages: [],
        recipe: {},
      },
    });
  },
};

/** `slow`: many small steps, reporting progress and honouring the abort signal. */
export const slowStage: Stage<{ iterations: number; fail_at?: number }> = {
  name: "slow",
  version: 1,
  description: "takes its time",
  params: z.object({
    iterations: z.number().int().positive().default(20),
    fail_at: z.number().int().optional(),
  }).strict(),
  inputs: { image: { kind: "image" } },
  output: "image",
  async run(ctx, inputs, p) {
    count("slow");
    for (let i = 1; i <= p.iterations; i++) {
      ctx.signal.throwIfAborted();
      if (i === p.fail_at) throw new StageError(`failed at iteration ${i}`);
      await new Promise((r) => setTimeout(r, 5));
      ctx.progress({ iteration: i, total: p.iterations, loss: 1 / i });
    }
    return image(imageOf(inputs.image, "image"));
  },
};

/** `checked`: validation-time check (n must be at most 3). */
export const checkedStage: Stage<{ n: number }> = {
  name: "checked",
  version: 1,
  description: "has a check()",
  params: z.object({ n: z.number() }).strict(),
  inputs: {},
  output: "image",
  check: (p, ctx) =>
    Promise.resolve(
      p.n > 3 ? [`n must be at most 3 (weights in ${ctx.weightsDirs.join(", ")})`] : [],
    ),
  run: () => Promise.resolve(image(createImage(1, 1))),
};

/** A registry with every test stage. */
export function testRegistry(): StageRegistry {
  const r = new StageRegistry();
  for (
    const s of [
      genStage,
      addStage,
      mixStage,
      stackStage,
      numberStage,
      writeStage,
      targetsStage,
      slowStage,
      checkedStage,
    ]
  ) r.register(s);
  return r;
}
