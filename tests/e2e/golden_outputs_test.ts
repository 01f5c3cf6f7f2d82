/**
 * The example recipes render to the same pixels as before the objective package was split out of
 * engines/ and plan/ (issue 19): SHA-256 of each output PNG's decoded pixels at 32 px, 3 iterations,
 * on the onnx engine, recorded from commit cf2f594 (quick-cpu is tubingen-starry-conv3 at other
 * settings, so --set makes it the same render: left out). Moving code changes no hash; a change to
 * a term's arithmetic, a target, a normalisation or the order of a sum changes one unless it moves
 * every pixel by less than half an 8-bit level. Record again (and say why in the commit) only when
 * a change means to alter outputs.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../src/util/hash.ts";
import { renderExample } from "./_render.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TINY = ["size=32", "iterations=3", "engine=onnx"];

/** Recipe, its --set overrides, and the pixels' SHA-256 at cf2f594. */
const GOLDEN: readonly [string, readonly string[], string][] = [
  [
    "tubingen-starry-conv3",
    TINY,
    "27279071354efa74427e6ac58eaf33cf84c3b4372e4414f440846001d90475c4",
  ],
  ["color-preserved", TINY, "6eb09d0d3d52c7ac84292d9d7a3c555b6b34f0813b0d56c55f2a3045ba5bf3ef"],
  ["luminance-only", TINY, "3cf135a492bbe3a0db7cc6a0c405fafaefa445c967b5bf3b606d98c966f8ed01"],
  ["style-blend", TINY, "d6d68f25fc253cd63dd7b4c7b6affa9c339bd19192abdfb55d6d01ae0cf4f182"],
  ["regional-styles", TINY, "93bb296034ee98c31ba113b1d88d5410426e4877dcc27ef005f94f74792910d0"],
  [
    "upscale-3-scales",
    ["small=16", "medium=24", "large=32", "iterations=2", "margin=4", "engine=onnx"],
    "cd6f083287e2a71f34d07b7cde137ae11ab43fe48666f2a0ab4c4a1b1975797e",
  ],
];

for (const [name, sets, expected] of GOLDEN) {
  Deno.test(
    `recipe ${name} renders the pixels recorded before the objective split`,
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
