/**
 * Shared fixtures for the neural stage tests: one wasm engine per test file (the real tfjs engine;
 * the cpu backend is ~10× slower on a loaded machine), a 32 px tubingen and the starry night.
 */
import { decodeImage } from "../../src/image/codecs.ts";
import type { RgbImage } from "../../src/image/image.ts";
import { resizeImage } from "../../src/image/resample.ts";
import type { Engine } from "../../src/neural/engines/engine.ts";
import { createEngine } from "../../src/neural/engines/providers.ts";
import { join } from "node:path";
import { testImagesDir } from "./_context.ts";

let engine: Promise<Engine> | undefined;

/** The engine the neural stage tests share (created once per process). */
export function testEngine(): Promise<Engine> {
  engine ??= createEngine("wasm");
  return engine;
}

/** An example image resized so its longer side is `size`. */
export async function exampleImage(name: string, size: number): Promise<RgbImage> {
  const image = await decodeImage(await Deno.readFile(join(testImagesDir(), name)));
  const ratio = size / Math.max(image.width, image.height);
  return resizeImage(
    image,
    Math.max(1, Math.round(image.width * ratio)),
    Math.max(1, Math.round(image.height * ratio)),
  );
}

/** Layers the partial weights here provide (conv1_1 … conv3_4). */
export const shallowLayers = {
  content_layers: ["relu3_2"],
  style_layers: ["relu1_1", "relu2_1", "relu3_1"],
};
