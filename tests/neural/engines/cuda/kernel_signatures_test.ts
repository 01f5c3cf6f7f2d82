/**
 * KERNEL_SIGNATURES against the CUDA C: every kernel's parameters, names and types in order, as
 * the source declares them; and the launcher refusing arguments that do not fit the table.
 */
import assert from "node:assert/strict";
import { CudaDevice } from "../../../../src/neural/engines/cuda/device.ts";
import { emulatedCuda } from "../../../../src/neural/engines/cuda/emulated.ts";
import {
  KERNEL_SIGNATURES,
  KERNEL_SOURCE,
  type KernelArgs,
} from "../../../../src/neural/engines/cuda/kernels.ts";

Deno.test("KERNEL_SIGNATURES lists each kernel's C parameters (name and type, in order) and every kernel", () => {
  const declared = new Map<string, [string, string][]>();
  for (const m of KERNEL_SOURCE.matchAll(/extern "C" __global__ void (\w+)\(([^)]*)\)/g)) {
    declared.set(
      m[1],
      m[2].split(",").map((p) => {
        const parts = /^(.*?)(\w+)$/.exec(p.trim().replace(/\s+/g, " "))!;
        return [parts[2], parts[1].replace(/ \*/, "*").trim()];
      }),
    );
  }
  assert.deepEqual([...declared.keys()].sort(), Object.keys(KERNEL_SIGNATURES).sort());
  for (const [name, params] of Object.entries(KERNEL_SIGNATURES)) {
    assert.deepEqual(Object.entries(params), declared.get(name), name);
  }
});

Deno.test("a launch with a missing, extra or mistyped argument throws before reaching the driver", () => {
  const device = new CudaDevice(emulatedCuda().api);
  const x = device.alloc(4), out = device.alloc(4);
  const relu = (args: unknown) => device.launch("relu", 4, args as KernelArgs<"relu">);
  assert.throws(
    () => relu({ in: x, out }),
    /relu: n \(long\) needs a finite number, got undefined/,
  );
  assert.throws(() => relu({ in: x, out, n: 4, extra: 1 }), /relu: no parameter extra/);
  assert.throws(
    () => relu({ in: 3, out, n: 4 }),
    /relu: in \(const float\*\) needs a device pointer/,
  );
  assert.throws(() => relu({ in: x, out, n: 2.5 }), /relu: n \(long\) needs an integer/);
  device.launch("relu", 4, { in: x, out, n: 4 });
  device.close();
});
