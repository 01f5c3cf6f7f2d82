/** Resampling speed on a 1024×768 image (`deno bench tests/image/resample_bench.ts`). */
import { resizeImage } from "../../src/image/resample.ts";
import { gaussianBlur } from "../../src/image/gaussian.ts";
import { rotateImage } from "../../src/image/rotate.ts";
import { synthImage } from "./_images.ts";

const image = synthImage(1024, 768, (x, y) => [x / 1024, y / 768, ((x ^ y) & 255) / 255]);

for (const filter of ["nearest", "bilinear", "bicubic", "lanczos3"] as const) {
  Deno.bench(`resize 1024×768 → 512×384 ${filter}`, { group: "down" }, () => {
    resizeImage(image, 512, 384, filter);
  });
  Deno.bench(`resize 1024×768 → 2048×1536 ${filter}`, { group: "up" }, () => {
    resizeImage(image, 2048, 1536, filter);
  });
}
Deno.bench("resize 1024×768 → 128×96 lanczos3 (8× shrink)", () => {
  resizeImage(image, 128, 96, "lanczos3");
});
Deno.bench("gaussian blur 1024×768 sigma 2", () => {
  gaussianBlur(image, 2);
});
Deno.bench("rotate 1024×768 by 30° bilinear", () => {
  rotateImage(image, 30, { fill: [0, 0, 0], expand: true });
});
