/**
 * The example recipes render to the same pixels as before the objective package was split out of
 * engines/ and plan/ (issue 19): SHA-256 of each output PNG's decoded pixels at 32 px, 3 iterations,
 * on the onnx engine, recorded from commit cf2f594 (quick-cpu is tubingen-starry-conv3 at other
 * settings, so --set makes it the same render: left out), and recorded again when L-BFGS's first
 * step became one 8-bit level (lbfgs.ts `firstStep`; with torch's first step, the code of that
 * change still rendered every cf2f594 hash). Moving code changes no hash; a change to
 * a term's arithmetic, a target, a normalisation or the order of a sum changes one unless it moves
 * every pixel by less than half an 8-bit level. Record again (and say why in the commit) only when
 * a change means to alter outputs.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../src/util/hash.ts";
import { renderExample } from "./_render.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TINY = ["size=32", "iterations=3", "engine=onnx"];

/** Recipe, its --set overrides, and the pixels' SHA-256 (cf2f594's renders, first step changed). */
const GOLDEN: readonly [string, readonly string[], string][] = [
  [
    "tubingen-starry-conv3",
    TINY,
    "c6a2851631d4d907bbf0103c491be1fa350e98497e3c5ae36c7a7922b0b8c77e",
  ],
  ["color-preserved", TINY, "ccd464b8ec22ec16a1bc162b2a190d9ac3534da5483e9ada99b8741eb266bec6"],
  ["luminance-only", TINY, "29b3c60a7558136909de9360b96e9f7af4b014f474fbe8ea8e0c1442fecf2779"],
  ["style-blend", TINY, "ebb42e818ec65584b4190feae2325c48847d3807c8726bd559fc63ba36de1098"],
  ["regional-styles", TINY, "a87052da345c89e2d7f5212e3b998e3d7f0a9baf240161601f014aaf79c1e07f"],
  [
    "upscale-3-scales",
    ["small=16", "medium=24", "large=32", "iterations=2", "margin=4", "engine=onnx"],
    "aa0597293c53812192fcbad820c0511b819403ce665e965df94ee18597501a3e",
  ],
];

for (const [name, sets, expected] of GOLDEN) {
  Deno.test(
    `recipe ${name} renders the pixels recorded`,
    opts,
    async () => {
      const image = await renderExample(name, sets);
      const pixels = new Uint8Array(
        image.data.buffer,
        image.data.byteOffset,
        image.data.byteLength,
      );
      assert.equal(sha256Hex(pixels), expected, `${name} ${image.width}×${image.height}`);
    },
  );
}
