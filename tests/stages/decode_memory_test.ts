/**
 * Issue 22, item 4: decompression bombs (a 44-byte WebP, a patched JPEG header, RGBA16 TIFF and
 * PNG, a 1×100,000,000 PNG, an AVIF — each declaring 100 MP) are refused from their headers at
 * validation with the image and the estimate named, in a child process whose peak memory is
 * measured; a valid 12 MP PNG under the budget decodes within its estimate.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { blankPng } from "../image/_blank_png.ts";
import { makeBombs } from "./_bombs.ts";
import { repoRoot } from "./_context.ts";

Deno.test("decode bombs are refused from their headers; a valid PNG decodes within its estimate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-bombs-" });
  try {
    const bombs = await makeBombs();
    for (const [name, bytes] of Object.entries(bombs)) await Deno.writeFile(join(dir, name), bytes);
    await Deno.writeFile(join(dir, "small.png"), blankPng(64, 64));
    await Deno.writeFile(join(dir, "valid.png"), blankPng(4000, 3000));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(repoRoot, "tests/stages/_bomb_child.ts"),
        dir,
        ...Object.keys(bombs),
      ],
      env: { STYLEPIPE_MEMORY_BUDGET_MB: "1536" },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(r.errors.length, 6, r.errors.join("\n"));
    for (const [i, name] of Object.keys(bombs).entries()) {
      assert.match(
        r.errors[i],
        new RegExp(
          `^decoding image ".*${name.replace(".", "\\.")}" \\(\\d+×\\d+ \\w+, .*-bit\\) needs ` +
            `about \\d+ MB, over the memory budget of 1536 MB`,
        ),
      );
    }
    // Refused before any pixel is allocated: the headers cost next to nothing.
    assert.ok(
      r.refusedPeak < 64e6,
      `refusing the bombs peaked ${r.refusedPeak} bytes above baseline`,
    );
    // 12 MP under the budget: the decode's measured cost is within its estimate, and near it.
    assert.equal(r.validEstimate, 12_000_000 * 18);
    assert.ok(r.validPeak <= r.validEstimate * 1.1, `peak ${r.validPeak} > ${r.validEstimate}`);
    assert.ok(r.validPeak > r.validEstimate / 4, `peak ${r.validPeak}: the estimate is too loose`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
