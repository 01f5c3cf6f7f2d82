/**
 * The parts of the cuda engine that run without a GPU: cuDNN algorithm choice from a perf table,
 * layouts, refused options, the kernels compiling (where nvcc is installed) and the runtime
 * library's bindings (where libcudart is installed; without a driver it answers with an error).
 */
import assert from "node:assert/strict";
import { createCudaEngine, refuseUnsupported } from "../../../../src/neural/engines/cuda/engine.ts";
import { cString, cudartSymbols, openLibrary } from "../../../../src/neural/engines/cuda/ffi.ts";
import { KERNEL_NAMES, KERNEL_SOURCE } from "../../../../src/neural/engines/cuda/kernels.ts";
import {
  chooseAlgorithm,
  readPerfTable,
} from "../../../../src/neural/engines/cuda/conv_algorithms.ts";
import { EngineUnavailableError } from "../../../../src/neural/engines/engine.ts";
import type { ObjectiveSpec } from "../../../../src/neural/objective/spec.ts";
import { smallWeights } from "../_fixtures.ts";

/** A cudnnConvolution*AlgoPerf_t table (48 bytes per entry). */
function perfTable(
  entries: { algo: number; status: number; memory: number; det: number; math: number }[],
): Uint8Array {
  const perf = new Uint8Array(48 * entries.length);
  const v = new DataView(perf.buffer);
  entries.forEach((e, k) => {
    v.setInt32(48 * k, e.algo, true);
    v.setInt32(48 * k + 4, e.status, true);
    v.setBigUint64(48 * k + 16, BigInt(e.memory), true);
    v.setInt32(48 * k + 24, e.det, true);
    v.setInt32(48 * k + 28, e.math, true);
  });
  return perf;
}

Deno.test("chooseAlgorithm takes the first successful deterministic algorithm; fp32 also needs FMA math", () => {
  const table = perfTable([
    { algo: 6, status: 0, memory: 0, det: 0, math: 1 }, // not deterministic
    { algo: 5, status: 3, memory: 0, det: 1, math: 1 }, // failed
    { algo: 1, status: 0, memory: 4096, det: 1, math: 1 }, // tensor cores (TF32)
    { algo: 0, status: 0, memory: 0, det: 1, math: 3 }, // FMA
  ]);
  const rows = readPerfTable(table, 4);
  assert.deepEqual(chooseAlgorithm(rows, "tf32", "conv1_1 forward"), {
    algo: 1,
    status: 0,
    memory: 4096,
    deterministic: true,
    math: 1,
  });
  assert.equal(chooseAlgorithm(rows, "fp32", "conv1_1 forward").algo, 0);
  assert.throws(
    () => chooseAlgorithm(rows.slice(0, 3), "fp32", "conv1_1 forward"),
    /no deterministic fp32 algorithm for conv1_1 forward \(algo 6 status 0 det 0/,
  );
});

Deno.test("loss options the cuda engine does not implement are refused, not ignored", () => {
  const spec: ObjectiveSpec = {
    weights: smallWeights,
    pooling: "avg",
    height: 8,
    width: 8,
    content: [],
    style: [],
    contentWeight: 1,
    styleWeight: 1,
    tvWeight: 0,
  };
  refuseUnsupported(spec);
  refuseUnsupported({ ...spec, padding: "reflect" });
  const withOption = { ...spec, futureOption: true } as unknown as ObjectiveSpec;
  assert.throws(
    () => refuseUnsupported(withOption),
    (e: unknown) =>
      e instanceof EngineUnavailableError &&
      /engine cuda does not support the loss option "futureOption" yet; use engine onnx/.test(
        e.message,
      ),
  );
});

const nvcc = ["/usr/local/cuda/bin/nvcc"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!nvcc) console.log("kernel compile test skipped: no nvcc at /usr/local/cuda/bin/nvcc");
Deno.test({
  name: "the kernels compile for sm_80 (nvcc, the front end NVRTC shares) and export every name",
  ignore: !nvcc,
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/k.cu`, KERNEL_SOURCE);
    const out = await new Deno.Command(nvcc!, {
      args: [
        "--fmad=false",
        "-arch=sm_80",
        "-cubin",
        "-Werror",
        "all-warnings",
        "-o",
        `${dir}/k.cubin`,
        `${dir}/k.cu`,
      ],
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const cubin = new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/k.cubin`));
    for (const name of KERNEL_NAMES) assert.ok(cubin.includes(`\0${name}\0`), name);
    await Deno.remove(dir, { recursive: true });
  },
});

const cudart = (() => {
  const folder = "/usr/local/cuda/lib64";
  for (const major of [13, 12]) {
    try {
      Deno.statSync(`${folder}/libcudart.so.${major}`);
      return `${folder}/libcudart.so.${major}`;
    } catch {
      // next
    }
  }
  return undefined;
})();
if (!cudart) console.log("cudart binding test skipped: no libcudart in /usr/local/cuda/lib64");
Deno.test({
  name:
    "every CUDA runtime symbol binds, once per process; without a GPU the runtime names its error",
  ignore: !cudart,
  fn() {
    const rt = openLibrary(cudart!, cudartSymbols);
    assert.equal(openLibrary(cudart!, cudartSymbols), rt, "the same library, not a second dlopen");
    const version = new Int32Array(1);
    assert.equal(rt.cudaRuntimeGetVersion(version), 0);
    assert.ok(version[0] >= 12000, `runtime version ${version[0]}`);
    const count = new Int32Array(1);
    const status = rt.cudaGetDeviceCount(count);
    if (status !== 0) {
      assert.match(cString(rt.cudaGetErrorName(status)), /^cudaError\w+$/);
      assert.ok(cString(rt.cudaGetErrorString(status)).length > 0);
      assert.equal(rt.cudaGetLastError(), status, "the failure is also the last error");
    }
  },
});

const noDriver = (() => {
  try {
    Deno.dlopen("libcuda.so.1", {}).close();
    return false;
  } catch {
    return true;
  }
})();
Deno.test({
  name:
    "libraries found but no driver or GPU: cudaGetDeviceCount's own status and name, nothing else loaded",
  ignore: !cudart || !noDriver,
  fn() {
    const dir = Deno.makeTempDirSync();
    Deno.symlinkSync(cudart!, `${dir}/libcudart.so.13`);
    // Empty stand-ins: loading any of them would fail with another message.
    for (const f of ["libcublas.so.13", "libcublasLt.so.13", "libnvrtc.so.13", "libcudnn.so.9"]) {
      Deno.writeFileSync(`${dir}/${f}`, new Uint8Array());
    }
    assert.throws(
      () =>
        createCudaEngine({
          search: { env: { STYLEPIPE_CUDA_LIBS: dir }, systemFolders: [], pythonRoots: [] },
        }),
      (e: unknown) =>
        e instanceof EngineUnavailableError &&
        e.message.startsWith(`engine cuda found its libraries (${dir}/libcudart.so.13`) &&
        /could not start the GPU: cudaGetDeviceCount failed: cudaError\w+ \((35|100)\): /.test(
          e.message,
        ),
    );
    Deno.removeSync(dir, { recursive: true });
  },
});
