import assert from "node:assert/strict";
import { join } from "node:path";
import { lossTraces, plotCommand } from "../../src/cli/plot.ts";

Deno.test("plot: draws the sidecar's loss curve of the optimizing step; usage errors exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stylepipe-plot-" });
  try {
    const output = join(dir, "x.png");
    await Deno.writeFile(output, new Uint8Array([1, 2, 3]));
    const results = {
      photo: { width: 4, height: 4 },
      transfer: { loss_curve: [{ iteration: 0, loss: 100 }, { iteration: 10, loss: 10 }] },
    };
    await Deno.writeTextFile(`${output}.json`, JSON.stringify({ results }));
    assert.deepEqual([...lossTraces(results).keys()], ["transfer"]);
    assert.equal(await plotCommand([output]), 0);
    const svg = await Deno.readTextFile(`${output}.loss.svg`);
    assert.match(svg, /^<svg /);
    assert.match(svg, /<polyline [^>]*points="64,\d+(\.\d)? 624,\d+(\.\d)?"/);
    assert.equal(await plotCommand([output, "--step", "photo"]), 2);
    assert.equal(await plotCommand([]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
