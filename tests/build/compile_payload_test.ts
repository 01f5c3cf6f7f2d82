import assert from "node:assert/strict";
import { join } from "node:path";
import { compilePayload, exclusionReason, LINUX_X64 } from "../../src/build/compile_payload.ts";
import { compileFailure } from "../../src/build/compile.ts";

async function file(root: string, path: string, bytes: number) {
  const full = join(root, path);
  await Deno.mkdir(join(full, ".."), { recursive: true });
  await Deno.writeFile(full, new Uint8Array(bytes));
}

Deno.test("compilePayload keeps linux-x64 onnxruntime only, drops musl sharp, types, maps", async () => {
  const root = await Deno.makeTempDir();
  try {
    const ort = "node_modules/.deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node";
    await file(root, `${ort}/bin/napi-v6/linux/x64/libonnxruntime.so.1`, 100);
    await file(root, `${ort}/bin/napi-v6/linux/arm64/libonnxruntime.so.1`, 70);
    await file(root, `${ort}/bin/napi-v6/darwin/arm64/libonnxruntime.dylib`, 50);
    await file(root, `${ort}/bin/napi-v6/win32/x64/onnxruntime.dll`, 60);
    await file(root, `${ort}/dist/index.js`, 10);
    await file(root, `${ort}/dist/index.js.map`, 40);
    await file(root, "node_modules/.deno/@img+sharp-linux-x64@0.35.5/lib/sharp.node", 20);
    await file(root, "node_modules/.deno/@img+sharp-linuxmusl-x64@0.35.5/lib/sharp.node", 30);
    await file(root, "node_modules/.deno/@img+sharp-libvips-linuxmusl-x64@1.3.4/lib/v.so", 35);
    await file(root, "node_modules/.deno/@types+node@26.6.6/index.d.ts", 5);
    await Deno.mkdir(join(root, "node_modules/onnxruntime-node/.."), { recursive: true });
    await Deno.symlink(join(root, ort), join(root, "node_modules/onnxruntime-node"));

    const payload = await compilePayload(root, LINUX_X64);
    const base = ".deno/onnxruntime-node@1.30.0/node_modules/onnxruntime-node";
    assert.deepEqual(payload.exclusions.map((x) => [x.path, x.bytes, x.reason]), [
      ["node_modules/.deno/@img+sharp-libvips-linuxmusl-x64@1.3.4", 35, "sharp for musl libc"],
      ["node_modules/.deno/@img+sharp-linuxmusl-x64@0.35.5", 30, "sharp for musl libc"],
      ["node_modules/.deno/@types+node@26.6.6", 5, "type declarations"],
      [`node_modules/${base}/bin/napi-v6/darwin`, 50, "onnxruntime for darwin"],
      [`node_modules/${base}/bin/napi-v6/linux/arm64`, 70, "onnxruntime for linux-arm64"],
      [`node_modules/${base}/bin/napi-v6/win32`, 60, "onnxruntime for win32"],
      [`node_modules/${base}/dist/index.js.map`, 40, "source map"],
    ]);
    // Kept: the linux-x64 library, the package's code and glibc sharp (the symlink is not counted).
    assert.equal(payload.keptBytes, 100 + 10 + 20);
    assert.deepEqual(payload.onnxruntimeKept, [
      `node_modules/${base}/bin/napi-v6/linux/x64/libonnxruntime.so.1`,
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("exclusionReason: an arm64 target keeps arm64 and drops x64", () => {
  const dir = "node_modules/.deno/o/node_modules/onnxruntime-node/bin/napi-v6/linux";
  const arm = { os: "linux", arch: "arm64" };
  assert.equal(exclusionReason(`${dir}/x64`, true, arm), "onnxruntime for linux-x64");
  assert.equal(exclusionReason(`${dir}/arm64`, true, arm), undefined);
  assert.equal(exclusionReason(dir, true, arm), undefined);
  assert.equal(exclusionReason("node_modules/.deno/x/a.js", false, arm), undefined);
});

Deno.test("compileFailure names DENORT_BIN when the runtime cannot be fetched", () => {
  const offline = "error: Writing deno compile executable to temporary file\n" +
    "    0: Setting up base binary.\n    1: error sending request for url " +
    "(https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip)";
  assert.match(
    compileFailure(offline, "2.9.6"),
    /https:\/\/dl\.deno\.land\/release\/v2\.9\.6\/denort-x86_64-unknown-linux-gnu\.zip .*DENORT_BIN=/,
  );
  assert.equal(
    compileFailure("error: Module not found", "2.9.6"),
    "deno compile failed:\nerror: Module not found",
  );
});
