/** tools/pin_imports.ts: bare npm specifiers become deno.json's `npm:name@version`. */
import assert from "node:assert/strict";
import { pin, pinText } from "../../tools/pin_imports.ts";

const MAP = {
  yaml: "npm:yaml@2.9.1",
  "@tensorflow/tfjs-core": "npm:@tensorflow/tfjs-core@4.22.0",
  "h5wasm": "npm:h5wasm@0.10.3",
};

Deno.test("pin: a package and a subpath of one; relative, node: and unmapped stay", () => {
  assert.equal(pin("yaml", MAP), "npm:yaml@2.9.1");
  assert.equal(pin("h5wasm/node", MAP), "npm:h5wasm@0.10.3/node");
  assert.equal(pin("@tensorflow/tfjs-core", MAP), "npm:@tensorflow/tfjs-core@4.22.0");
  assert.equal(pin("@tensorflow/tfjs-core-x", MAP), undefined);
  assert.equal(pin("./yaml", MAP), undefined);
  assert.equal(pin("node:path", MAP), undefined);
  // deno.json moved on: a pinned specifier at another version follows it; one that agrees stays.
  assert.equal(pin("npm:yaml@2.8.0", MAP), "npm:yaml@2.9.1");
  assert.equal(pin("npm:h5wasm@0.9.0/node", MAP), "npm:h5wasm@0.10.3/node");
  assert.equal(pin("npm:yaml@2.9.1", MAP), undefined);
  assert.equal(pin("npm:left-pad@1.0.0", MAP), undefined);
});

Deno.test("pinText rewrites import, export, side-effect and dynamic imports, nothing else", () => {
  const source = [
    `import { parse } from "yaml";`,
    `import type { Tensor } from '@tensorflow/tfjs-core';`,
    `export { stringify } from "yaml";`,
    `import "h5wasm/node";`,
    `const tf = await import("@tensorflow/tfjs-core");`,
    `import { join } from "node:path";`,
    `const text = "yaml"; // from "yaml" in a comment is an import statement's shape, and is pinned`,
  ].join("\n");
  const { text, pinned } = pinText(source, MAP);
  assert.equal(
    text,
    [
      `import { parse } from "npm:yaml@2.9.1";`,
      `import type { Tensor } from 'npm:@tensorflow/tfjs-core@4.22.0';`,
      `export { stringify } from "npm:yaml@2.9.1";`,
      `import "npm:h5wasm@0.10.3/node";`,
      `const tf = await import("npm:@tensorflow/tfjs-core@4.22.0");`,
      `import { join } from "node:path";`,
      `const text = "yaml"; // from "npm:yaml@2.9.1" in a comment is an import statement's shape, and is pinned`,
    ].join("\n"),
  );
  assert.deepEqual(pinned.map((p) => p.line), [1, 2, 3, 4, 5, 7]);
  assert.deepEqual(pinText(text, MAP).pinned, [], "pinning twice changes nothing");
});
