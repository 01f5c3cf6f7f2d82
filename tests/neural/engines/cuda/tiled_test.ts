/**
 * Tiled evaluation (objective/tiled.ts) on the emulated cuda engine: its statistics() and
 * planObjective() (the linear term, masked content) give the whole-image loss, groups and gradient
 * for every term kind; without the halo they do not (so the comparison can fail).
 */
import assert from "node:assert/strict";
import { CudaDevice } from "../../../../src/neural/engines/cuda/device.ts";
import { emulatedCuda } from "../../../../src/neural/engines/cuda/emulated.ts";
import { CudaEngine } from "../../../../src/neural/engines/cuda/engine.ts";
import {
  selfCheckCombinedSpec,
  selfCheckImage,
} from "../../../../src/neural/engines/cuda/self_check.ts";
import type { Engine } from "../../../../src/neural/engines/engine.ts";
import { tiledObjective } from "../../../../src/neural/objective/tiled.ts";
import { tilingFor } from "../../../../src/neural/objective/tiling.ts";
import { layersRead, lossPlan } from "../../../../src/neural/objective/terms.ts";
import { evaluateAt, evaluateOnHost, relDiff } from "../_fixtures.ts";

Deno.test("emulated cuda: every term kind tiled 2×2 = whole; with no halo it differs", async () => {
  const emulated = emulatedCuda();
  const engine = new CudaEngine(new CudaDevice(emulated.api), "fp32");
  try {
    const spec = selfCheckCombinedSpec();
    const x = selfCheckImage();
    const layers = layersRead(lossPlan(spec).terms);
    const tiling = tilingFor(spec.weights.arch, layers, spec.height, spec.width, 12);
    const whole = await evaluateOnHost(engine as Engine, spec, x);
    const tiledError = async (halo: number) => {
      const objective = await tiledObjective(engine, spec, { ...tiling, halo });
      const e = await evaluateAt(engine, objective, x).finally(() => objective.dispose());
      const grad = e.grad;
      let err = 0, scale = 0;
      grad.forEach((v, i) => {
        err = Math.max(err, Math.abs(v - whole.grad[i]));
        scale = Math.max(scale, Math.abs(whole.grad[i]));
      });
      const terms = Object.keys(whole.terms).map((k) => relDiff(e.terms[k], whole.terms[k]));
      return Math.max(relDiff(e.loss, whole.loss), ...terms, err / scale);
    };
    assert.deepEqual([tiling.rows, tiling.cols], [2, 2]);
    const exact = await tiledError(tiling.halo);
    assert.ok(exact <= 1e-5, `tiled vs whole: ${exact}`);
    const blind = await tiledError(0);
    assert.ok(blind > 1e-3, `without the halo: ${blind}`);
  } finally {
    await engine.dispose();
  }
  assert.equal(emulated.liveAllocations(), 0);
});
