/** The engine registry: names, unknown names, the absent GPU plugin, and what `auto` picks. */
import assert from "node:assert/strict";
import {
  AUTO_ORDER,
  autoProvider,
  createEngine,
  engineNames,
  usableForAuto,
} from "../../../src/neural/engines/providers.ts";
import { EngineUnavailableError } from "../../../src/neural/engines/engine.ts";
import { tfjsNodeGpuProvider, tfjsNodeProvider } from "../../../src/neural/engines/tfjs/node.ts";
import {
  hardwareWebgpuAvailable,
  isSoftwareAdapter,
} from "../../../src/neural/engines/tfjs/webgpu.ts";

Deno.test("engineNames lists auto, cuda and the tfjs engines", () => {
  for (
    const name of [
      "auto",
      "cuda",
      "cuda-fp32",
      "cuda-tf32",
      "wasm",
      "cpu",
      "webgpu",
      "tfjs-node",
      "tfjs-node-gpu",
    ]
  ) {
    assert.ok(engineNames.includes(name), name);
  }
});

Deno.test("an unknown engine name is a user error listing the names", async () => {
  await assert.rejects(createEngine("metal"), (e: unknown) => {
    assert.ok(e instanceof EngineUnavailableError);
    assert.match(e.message, /unknown engine "metal"/);
    for (const name of engineNames) assert.ok(e.message.includes(name), name);
    return true;
  });
});

Deno.test("tfjs-node-gpu and tfjs-node, not installed here, fail with the install command", async () => {
  assert.equal(await tfjsNodeGpuProvider.available(), false);
  assert.equal(await tfjsNodeProvider.available(), false);
  await assert.rejects(
    createEngine("tfjs-node"),
    (e: unknown) =>
      e instanceof EngineUnavailableError && e.engine === "tfjs-node" &&
      e.message.includes("npm install @tensorflow/tfjs-node"),
  );
  // Without a CUDA GPU the message says so; with one, it names the package to install.
  await assert.rejects(
    createEngine("tfjs-node-gpu"),
    (e: unknown) =>
      e instanceof EngineUnavailableError && e.engine === "tfjs-node-gpu" &&
      (e.message.includes("npm install @tensorflow/tfjs-node-gpu") || /CUDA GPU/.test(e.message)),
  );
});

Deno.test("auto skips the absent GPU plugin and creates a working engine", async () => {
  const provider = await autoProvider();
  assert.notEqual(provider.name, "tfjs-node-gpu");
  assert.ok(["onnx", "wasm"].includes(provider.name), provider.name);
  const engine = await createEngine("auto");
  assert.equal(engine.name, provider.name);
  assert.equal(await usableForAuto("tfjs-node-gpu"), false);
  assert.equal(await usableForAuto("cpu"), true);
  assert.equal(await usableForAuto("wasm"), true);
});

Deno.test("auto picks the first usable of cuda, tfjs-node-gpu, webgpu, onnx, wasm", async () => {
  assert.deepEqual([...AUTO_ORDER], ["cuda", "tfjs-node-gpu", "webgpu", "onnx", "wasm"]);
  const pick = async (usable: string[]) => {
    const asked: string[] = [];
    const provider = await autoProvider((name) => {
      asked.push(name);
      return Promise.resolve(usable.includes(name));
    });
    return { name: provider.name, asked };
  };
  assert.deepEqual(await pick(["cuda", "onnx"]), { name: "cuda", asked: ["cuda"] });
  assert.equal((await pick(["tfjs-node-gpu", "webgpu", "onnx"])).name, "tfjs-node-gpu");
  assert.equal((await pick(["webgpu", "onnx", "wasm"])).name, "webgpu");
  assert.equal((await pick(["onnx", "wasm", "cpu"])).name, "onnx");
  assert.deepEqual(await pick(["wasm", "cpu"]), {
    name: "wasm",
    asked: ["cuda", "tfjs-node-gpu", "webgpu", "onnx", "wasm"],
  });
  await assert.rejects(
    pick(["cpu"]),
    (e: unknown) =>
      e instanceof EngineUnavailableError &&
      e.message.includes("tried cuda, tfjs-node-gpu, webgpu, onnx, wasm"),
  );
});

Deno.test("software WebGPU adapters (llvmpipe, SwiftShader, fallback) are not hardware", async () => {
  assert.ok(isSoftwareAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" }));
  assert.ok(isSoftwareAdapter({ vendor: "Google", device: "SwiftShader Device (Subzero)" }));
  assert.ok(isSoftwareAdapter({ description: "NVIDIA H100" }, true));
  assert.ok(!isSoftwareAdapter({ description: "NVIDIA H100 80GB HBM3", vendor: "nvidia" }));
  assert.ok(!isSoftwareAdapter({ description: "AMD Radeon RX 7900 XTX (RADV NAVI31)" }));
  // Whatever this machine has, auto never resolves to webgpu unless the adapter is hardware.
  if ((await autoProvider()).name === "webgpu") assert.ok(await hardwareWebgpuAvailable());
});
