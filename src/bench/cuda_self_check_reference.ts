/**
 * `deno run -A src/bench/cuda_self_check_reference.ts`: recomputes the cuda engine's self-check
 * reference (neural/engines/cuda/self_check_reference.json) with the onnx engine on the CPU. Run it
 * when the fixed case or a loss changes; the self-check test fails until then.
 */
import { onnxProvider } from "../neural/engines/onnx/engine.ts";
import { encodeSelfCheckReference, evaluateSelfCheck } from "../neural/engines/cuda/self_check.ts";

const onnx = await onnxProvider.create();
try {
  const results = await evaluateSelfCheck(onnx);
  const about = `onnx engine (${onnx.describe()}) on the CPU, ${new Date().toISOString()}; ` +
    "recompute with deno run -A src/bench/cuda_self_check_reference.ts";
  const path = new URL("../neural/engines/cuda/self_check_reference.json", import.meta.url);
  await Deno.writeTextFile(path, JSON.stringify(encodeSelfCheckReference(results, about)) + "\n");
  console.log(`wrote ${path.pathname}`);
} finally {
  await onnx.dispose();
}
