/**
 * The GPU session on the emulated device with each injected fault: the script runs every part,
 * names the fault where it happens, prints each part's exit code and duration, and exits 1; and
 * gpu-check's exit code: 1 when the engine cannot start on a machine with a GPU, 0 (skipped) only
 * without one. (The fault-free session, about 90 s here, is run by hand: docs/gpu.md.)
 */
import assert from "node:assert/strict";
import { gpuCheck } from "../../../../src/bench/gpu_check.ts";

const root = new URL("../../../../", import.meta.url).pathname;

async function session(fault: string, budget = 530) {
  const out = await Deno.makeTempDir();
  const result = await new Deno.Command("bash", {
    args: ["src/bench/gpu_session.sh", `--emulate=${fault}`],
    env: { OUT: out, GPU_SESSION_BUDGET: String(budget) },
    cwd: root,
  }).output();
  const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  const summary = await Deno.readTextFile(`${out}/summary.txt`);
  await Deno.remove(out, { recursive: true });
  return { code: result.code, text, summary };
}

Deno.test("gpu session, emulated, each fault: named in the output, every part run, exit 1", async () => {
  const [oob, noLib, wrong] = await Promise.all(
    ["kernel-oob", "library-load", "wrong-result"].map((fault) => session(fault)),
  );
  for (const s of [oob, noLib, wrong]) {
    assert.equal(s.code, 1, s.text);
    assert.match(s.summary, /^gpu session: \d+s of 530s$/m);
    assert.match(s.summary, /^smoke: exit 1, \d+s$/m);
    assert.match(s.summary, /^check: exit 1, \d+s$/m);
    assert.match(s.summary, /^bench-cuda-fp32: exit 1, \d+s$/m);
  }
  assert.match(oob.text, /STAGE 5 kernel relu FAIL cudaErrorIllegalAddress/);
  assert.match(oob.text, /FAIL {2}fp32 max zero .*cudaErrorIllegalAddress \(700\)/);
  assert.match(noLib.text, /STAGE 2 dlopen libcudnn\.so\.9 FAIL DLOPEN/);
  assert.match(
    noLib.text,
    /FAIL {2}engine start: .*libcudnn\.so\.9: cannot open shared object file/,
  );
  assert.match(wrong.text, /STAGE 5 kernel gram_diff FAIL MISMATCH/);
  // gpu-check shows the difference in detail (the self-check's refusal is the smoke's and bench's).
  assert.match(wrong.text, /FAIL {2}fp32 max zero synthetic VGG19 to conv3_1 13×10: gradient/);
  assert.match(wrong.text, /PASS {2}fp32 max zero synthetic VGG19 to conv3_1 13×10: content/);
  assert.match(wrong.text, /bench-cuda-fp32.*\n(.*\n)*.*the gram term gradient differs/);
});

Deno.test("gpu session: a part's timeout is capped by what is left of the budget; parts left without time are named", async () => {
  const capped = await session("library-load", 15);
  assert.equal(capped.code, 1);
  assert.match(capped.text, /^== smoke \(timeout 15s, 0s into the session\)$/m);
  const check = Number(/^== check \(timeout (\d+)s, (\d+)s into/m.exec(capped.text)![1]);
  assert.ok(check <= 15, `check's timeout ${check}s (its own: 240s)`);
  const none = await session("library-load", 9);
  assert.equal(none.code, 1);
  for (const part of ["smoke", "check", "bench-cuda-fp32"]) {
    assert.match(none.summary, new RegExp(`^${part}: not run \\(budget\\)$`, "m"));
  }
});

Deno.test("gpu-check exits 1 when the engine cannot start on a machine with a GPU, 0 (skipped) without one", async () => {
  const create = () => Promise.reject(new Error("cudaErrorNoDevice"));
  const log = console.log;
  const lines: string[] = [];
  console.log = (line: string) => void lines.push(line);
  try {
    assert.equal(await gpuCheck({ create, gpuPresent: true }), 1);
    assert.equal(await gpuCheck({ create, gpuPresent: false }), 0);
  } finally {
    console.log = log;
  }
  assert.deepEqual(lines, [
    "FAIL  engine start: cudaErrorNoDevice",
    "gpu-check: the cuda engine cannot start on this machine, which has a GPU",
    "gpu-check: skipped, no NVIDIA GPU here: cudaErrorNoDevice",
  ]);
});
