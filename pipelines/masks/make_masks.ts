/**
 * Writes the two masks of pipelines/regional-styles.yaml: `sky.png` (white above the roofs of
 * tubingen.jpg) and `city.png` (its complement). The Tübingen photo's sky is not brighter than its
 * sunlit houses, so the masks are a horizontal split at the roofline (≈ 35 % of the height, read
 * off the photo's rows), with a linear ramp from 30 % to 40 % so the styles meet softly. 64×48
 * (the photo's 4:3); extract-features resizes masks to the content.
 *   deno run -A pipelines/masks/make_masks.ts
 */
import { join } from "node:path";
import { encodePng } from "../../src/image/codecs.ts";

const WIDTH = 64;
const HEIGHT = 48;
const RAMP_TOP = 0.30;
const RAMP_BOTTOM = 0.40;

const sky = new Float32Array(WIDTH * HEIGHT * 3);
for (let y = 0; y < HEIGHT; y++) {
  const t = ((y + 0.5) / HEIGHT - RAMP_TOP) / (RAMP_BOTTOM - RAMP_TOP);
  sky.fill(1 - Math.min(1, Math.max(0, t)), y * WIDTH * 3, (y + 1) * WIDTH * 3);
}
const city = sky.map((v) => 1 - v);
const here = new URL(".", import.meta.url).pathname;
const write = async (name: string, data: Float32Array) =>
  await Deno.writeFile(join(here, name), await encodePng({ width: WIDTH, height: HEIGHT, data }));
await write("sky.png", sky);
await write("city.png", city);
