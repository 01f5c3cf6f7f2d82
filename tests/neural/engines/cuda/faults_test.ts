/**
 * Faults on the emulated device reach the user named: a kernel writing out of bounds is reported
 * by the call that launched it under STYLEPIPE_CUDA_SYNC=1 (sync mode), and only at the next
 * copy without it; a constructor that throws leaves no device memory behind.
 */
import assert from "node:assert/strict";
import { CudaDevice } from "../../../../src/neural/engines/cuda/device.ts";
import { emulatedCuda } from "../../../../src/neural/engines/cuda/emulated.ts";
import { CudaError } from "../../../../src/neural/engines/cuda/ffi.ts";
import { CudaNetwork } from "../../../../src/neural/engines/cuda/network.ts";
import { uploadWeights } from "../../../../src/neural/engines/cuda/network.ts";
import { networkPlan } from "../../../../src/neural/plan/network.ts";
import { StylepipeError } from "../../../../src/util/errors.ts";
import { smallWeights } from "../_fixtures.ts";

function reluOnce(sync: boolean) {
  const device = new CudaDevice(emulatedCuda("kernel-oob").api, { sync });
  const x = device.upload(new Float32Array(7).fill(-1)), out = device.alloc(7);
  try {
    device.launch("relu", 7, { in: x, out, n: 7 });
    device.read(out);
  } catch (e) {
    return e;
  }
  return undefined;
}

Deno.test("an out-of-bounds write is named at its launch in sync mode, at the next copy without it", () => {
  const synced = reluOnce(true);
  assert.ok(synced instanceof CudaError && synced instanceof StylepipeError);
  assert.equal(synced.errorName, "cudaErrorIllegalAddress");
  assert.equal(synced.code, 700);
  assert.match(
    synced.message,
    /^cudaDeviceSynchronize after relu failed: cudaErrorIllegalAddress \(700\): an illegal memory access was encountered$/,
  );
  const late = reluOnce(false);
  assert.ok(late instanceof CudaError);
  assert.match(late.message, /^cudaMemcpy failed: cudaErrorIllegalAddress \(700\)/);
});

Deno.test("a network whose construction fails frees what it had allocated", () => {
  const emulated = emulatedCuda();
  const device = new CudaDevice(emulated.api);
  const before = emulated.liveAllocations();
  const weights = uploadWeights(device, smallWeights);
  const plan = networkPlan(smallWeights, "max", 9, 7, ["relu2_1"]);
  // cuDNN refuses the second descriptor of conv1_2: the network built so far is released.
  let calls = 0;
  const set = emulated.api.cudnn.cudnnSetFilter4dDescriptor;
  (emulated.api.cudnn as { cudnnSetFilter4dDescriptor: typeof set }).cudnnSetFilter4dDescriptor = (
    ...args
  ) => (++calls === 2 ? 3 : set(...args));
  assert.throws(
    () => new CudaNetwork(device, plan, weights, "fp32", new Set(["relu2_1"])),
    (e: unknown) =>
      e instanceof CudaError && e.call === "cudnnSetFilter4dDescriptor" &&
      e.errorName === "CUDNN_STATUS_EXECUTION_FAILED",
  );
  for (const c of weights.values()) [c.kernel, c.bias].forEach((a) => device.free(a));
  device.trim();
  assert.equal(emulated.liveAllocations(), before);
  device.close();
});
