/**
 * Library discovery of the cuda engine over temporary folders holding empty files with the
 * libraries' names: it checks which paths discovery picks and what its errors say, nothing more
 * (whether such a set works is for `deno task dev gpu-check` on a GPU machine).
 */
import assert from "node:assert/strict";
import {
  CUDA_INSTALL_HINT,
  type CudaSearch,
  discoverCudaLibraries,
  searchFolders,
} from "../../../../src/neural/engines/cuda/libraries.ts";
import { createCudaEngine } from "../../../../src/neural/engines/cuda/engine.ts";
import { EngineUnavailableError } from "../../../../src/neural/engines/engine.ts";

const CUDA13 = ["libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libnvrtc.so.13"];
const CUDA12 = ["libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12", "libnvrtc.so.12"];

/** A temporary tree: each key a folder (relative), each value the file names to create in it. */
function tree(layout: Record<string, string[]>): string {
  const root = Deno.makeTempDirSync({ prefix: "stylepipe-cuda-" });
  for (const [folder, files] of Object.entries(layout)) {
    Deno.mkdirSync(`${root}/${folder}`, { recursive: true });
    for (const f of files) Deno.writeFileSync(`${root}/${folder}/${f}`, new Uint8Array());
  }
  return root;
}

/** A search that sees only `root`'s folders (no system folders, no Python roots). */
function only(env: Record<string, string>, pythonRoots: string[] = []): CudaSearch {
  return { env, systemFolders: [], pythonRoots };
}

Deno.test("STYLEPIPE_CUDA_LIBS comes before LD_LIBRARY_PATH, each library from the first folder holding it", () => {
  const root = tree({
    a: [...CUDA13, "libcudnn.so.9", "libcudnn_graph.so.9", "libcudnn_cnn.so.9"],
    b: [...CUDA13, "libcudnn.so.9", "libnvrtc-builtins.so.13.0"],
  });
  const found = discoverCudaLibraries(
    only({ STYLEPIPE_CUDA_LIBS: `${root}/a`, LD_LIBRARY_PATH: `${root}/b:${root}/missing` }),
  );
  assert.ok(found.found);
  const libs = found.libraries;
  assert.equal(libs.major, 13);
  assert.equal(libs.cudart, `${root}/a/libcudart.so.13`);
  assert.equal(libs.cudnn, `${root}/a/libcudnn.so.9`);
  assert.equal(libs.driver, "libcuda.so.1"); // left to the dynamic linker
  assert.deepEqual(libs.searched, [`${root}/a`, `${root}/b`]); // the missing folder is dropped
  // cuBLASLt and cuDNN's sub-libraries (in dependency order) are opened first, so their sonames resolve.
  assert.deepEqual(libs.preload, [
    `${root}/a/libcublasLt.so.13`,
    `${root}/a/libcudnn_graph.so.9`,
    `${root}/a/libcudnn_cnn.so.9`,
  ]);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("CUDA 13 is preferred; a complete CUDA 12 set is used when 13's is incomplete", () => {
  const root = tree({
    mixed: ["libcudart.so.13", "libnvrtc.so.13", ...CUDA12, "libcudnn.so.9"],
  });
  const found = discoverCudaLibraries(only({ STYLEPIPE_CUDA_LIBS: `${root}/mixed` }));
  assert.ok(found.found);
  assert.equal(found.libraries.major, 12);
  assert.equal(found.libraries.cublas, `${root}/mixed/libcublas.so.12`);
  assert.equal(found.libraries.nvrtc, `${root}/mixed/libnvrtc.so.12`); // never 13's with 12's cuBLAS
  Deno.writeFileSync(`${root}/mixed/libcublas.so.13`, new Uint8Array());
  Deno.writeFileSync(`${root}/mixed/libcublasLt.so.13`, new Uint8Array());
  const again = discoverCudaLibraries(only({ STYLEPIPE_CUDA_LIBS: `${root}/mixed` }));
  assert.ok(again.found);
  assert.equal(again.libraries.major, 13);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("Python environments' nvidia/*/lib folders are searched (cu13 and per-package wheels)", () => {
  const root = tree({
    "venv/lib/python3.12/site-packages/nvidia/cu13/lib": [...CUDA13, "libnvrtc-builtins.so.13.0"],
    "venv/lib/python3.12/site-packages/nvidia/cudnn/lib": ["libcudnn.so.9", "libcudnn_ops.so.9"],
    "other/lib/python3.11/site-packages/nvidia/cublas/lib": ["libcublas.so.12"],
  });
  const search = only({}, [`${root}/venv`, `${root}/other`]);
  const site = `${root}/venv/lib/python3.12/site-packages/nvidia`;
  assert.deepEqual(searchFolders(search), [
    `${site}/cu13/lib`,
    `${site}/cudnn/lib`,
    `${root}/other/lib/python3.11/site-packages/nvidia/cublas/lib`,
  ]);
  const found = discoverCudaLibraries(search);
  assert.ok(found.found);
  assert.equal(found.libraries.nvrtc, `${site}/cu13/lib/libnvrtc.so.13`);
  assert.equal(found.libraries.cudnn, `${site}/cudnn/lib/libcudnn.so.9`);
  assert.deepEqual(found.libraries.preload, [
    `${site}/cu13/lib/libcublasLt.so.13`,
    `${site}/cu13/lib/libnvrtc-builtins.so.13.0`,
    `${site}/cudnn/lib/libcudnn_ops.so.9`,
  ]);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("missing libraries: the error names them, the folders searched and the install command", () => {
  const root = tree({ cuda: ["libcudart.so.13", "libcudart.so.12"] });
  const search = only({ STYLEPIPE_CUDA_LIBS: `${root}/cuda` });
  const found = discoverCudaLibraries(search);
  assert.ok(!found.found);
  assert.deepEqual(found.missing, [
    "libcublas.so.13",
    "libcublasLt.so.13",
    "libnvrtc.so.13",
    "libcudnn.so.9",
  ]);
  assert.throws(() => createCudaEngine({ search }), (e: unknown) => {
    assert.ok(e instanceof EngineUnavailableError);
    assert.equal(e.engine, "cuda");
    assert.match(e.message, /engine cuda needs libcublas\.so\.13, .*libcudnn\.so\.9/);
    assert.ok(e.message.includes(`searched: ${root}/cuda;`), e.message);
    assert.ok(e.message.includes(CUDA_INSTALL_HINT));
    assert.match(
      e.message,
      /pip install nvidia-cuda-runtime nvidia-cublas nvidia-cuda-nvrtc nvidia-cudnn-cu13/,
    );
    return true;
  });
  assert.throws(
    () => createCudaEngine({ search: only({}) }),
    /no library folder exists/,
  );
  Deno.removeSync(root, { recursive: true });
});
