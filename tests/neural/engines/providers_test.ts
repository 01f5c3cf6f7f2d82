/** The engine registry: names, unknown names, the absent GPU plugin, and what `auto` picks. */
import assert from "node:assert/strict";
import {
  autoProvider,
  createEngine,
  engineAvailability,
  engineNames,
} from "../../../src/neural/engines/providers.ts";
import { EngineUnavailableError } from "../../../src/neural/engines/engine.ts";
import { tfjsNodeGpuProvider, tfjsNodeProvider } from "../../../src/neural/engines/tfjs_node.ts";

Deno.test("engineNames lists auto and the tfjs engines", () => {
  for (const name of ["auto", "wasm", "cpu", "webgpu", "tfjs-node", "tfjs-node-gpu"]) {
    assert.ok(engineNames.includes(name), name);
  }
});

Deno.test("an unknown engine name is an error listing the names", async () => {
  await assert.rejects(createEngine("cuda"), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /unknown engine "cuda"/);
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
  const availability = await engineAvailability();
  assert.equal(availability["tfjs-node-gpu"], false);
  assert.equal(availability.cpu, true);
  assert.equal(availability.wasm, true);
  assert.deepEqual(
    Object.keys(availability).sort(),
    engineNames.filter((n) => n !== "auto").sort(),
  );
});
