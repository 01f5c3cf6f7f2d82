/** Small synthetic images and tolerant comparisons for image tests. */
import assert from "node:assert/strict";
import type { RgbImage } from "../../src/image/image.ts";

/** An image whose pixel (x, y) is `pixel(x, y)`. */
export function synthImage(
  width: number,
  height: number,
  pixel: (x: number, y: number) => readonly [number, number, number],
): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return { width, height, data };
}

/** A gray image whose red=green=blue channel is `values[y][x]`. */
export function grayImage(values: readonly (readonly number[])[]): RgbImage {
  return synthImage(values[0].length, values.length, (x, y) => {
    const v = values[y][x];
    return [v, v, v];
  });
}

/** The red channel as rows (for readable asserts on gray images). */
export function redRows(image: RgbImage): number[][] {
  const rows: number[][] = [];
  for (let y = 0; y < image.height; y++) {
    const row: number[] = [];
    for (let x = 0; x < image.width; x++) row.push(image.data[(y * image.width + x) * 3]);
    rows.push(row);
  }
  return rows;
}

/** Asserts equal size and every sample within `tolerance`. */
export function assertImagesClose(actual: RgbImage, expected: RgbImage, tolerance: number): void {
  assert.equal(actual.width, expected.width, "width");
  assert.equal(actual.height, expected.height, "height");
  for (let i = 0; i < actual.data.length; i++) {
    const d = Math.abs(actual.data[i] - expected.data[i]);
    if (!(d <= tolerance)) {
      assert.fail(`sample ${i}: ${actual.data[i]} vs ${expected.data[i]} (tolerance ${tolerance})`);
    }
  }
}

/** Asserts two number arrays agree within `tolerance`. */
export function assertArrayClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance)) {
      assert.fail(`index ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
    }
  }
}
