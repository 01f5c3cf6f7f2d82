/**
 * The cuda engine's self-check: its stored reference is what the onnx engine computes now; the
 * emulated engine passes it; a wrong gradient (the emulated `wrong-result` fault) is refused naming
 * the term; `auto` then falls back to the next engine with a one-line warning.
 */
import assert from "node:assert/strict";
import { CudaDevice } from "../../../../src/neural/engines/cuda/device.ts";
import { emulatedCuda } from "../../../../src/neural/engines/cuda/emulated.ts";
import { CudaEngine, startCudaEngine } from "../../../../src/neural/engines/cuda/engine.ts";
import {
  compareSelfCheck,
  CudaSelfCheckError,
  evaluateSelfCheck,
  SELF_CHECK_TERMS,
  selfCheck,
  selfCheckReference,
} from "../../../../src/neural/engines/cuda/self_check.ts";
import type { Engine } from "../../../../src/neural/engines/engine.ts";
import { onnxProvider } from "../../../../src/neural/engines/onnx/engine.ts";

Deno.test("the stored self-check reference is the onnx engine's result today (every term kind)", async () => {
  const onnx = await onnxProvider.create();
  try {
    const want = selfCheckReference();
    const diffs = compareSelfCheck(await evaluateSelfCheck(onnx), want);
    for (const term of SELF_CHECK_TERMS) {
      assert.ok(want[term].loss > 0 && want[term].grad.length === 24 * 20 * 3, term);
      assert.ok(diffs[term].loss < 1e-6 && diffs[term].grad < 1e-6, `${term}: ${diffs[term]}`);
    }
  } finally {
    await onnx.dispose();
  }
});

Deno.test("the emulated engine passes the self-check; with a 2 % wrong gradient factor it is refused, naming the gram term", async () => {
  const good = new CudaEngine(new CudaDevice(emulatedCuda().api), "fp32");
  try {
    await selfCheck(good as Engine, "fp32");
  } finally {
    await good.dispose();
  }
  const faulty = emulatedCuda("wrong-result");
  const bad = new CudaEngine(new CudaDevice(faulty.api), "fp32");
  try {
    await assert.rejects(
      () => selfCheck(bad as Engine, "fp32"),
      (e: unknown) =>
        e instanceof CudaSelfCheckError && e.term === "gram" &&
        /the gram term gradient differs \(relative difference: loss [0-9.]+e-[6-9], gradient 2\.00e-2; fp32 tolerance 0\.0001\)/
          .test(e.message),
    );
  } finally {
    await bad.dispose();
  }
  assert.equal(faulty.liveAllocations(), 0);
});

Deno.test("startCudaEngine refuses an engine failing its self-check (once per process and device kind)", async () => {
  for (let k = 0; k < 2; k++) {
    await assert.rejects(
      () => startCudaEngine({ emulate: "wrong-result", precision: "fp32" }),
      CudaSelfCheckError,
    );
  }
  const engine = await startCudaEngine({ emulate: true, precision: "fp32" });
  await engine.dispose();
});

Deno.test("auto skips a cuda engine that fails its self-check, with one warning line, and picks the next engine", async () => {
  const script = `
    import { autoProvider } from "./src/neural/engines/providers.ts";
    console.log("picked " + (await autoProvider()).name);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    env: { STYLEPIPE_CUDA_EMULATE: "wrong-result" },
    cwd: new URL("../../../../", import.meta.url).pathname,
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
  assert.ok(out.success, stderr.join("\n"));
  assert.match(stdout, /picked (tfjs-node-gpu|webgpu|onnx|wasm)/);
  // (other engines' probes may write their own lines: webgpu's without a display)
  const about = stderr.filter((line) => line.includes("cuda"));
  assert.equal(about.length, 1, stderr.join("\n"));
  assert.match(about[0], /^warning: engine cuda skipped: .*the gram term gradient differs/);
});
