/**
 * `deno task dev gpu-smoke` end to end on the emulated device: every stage passes; each injected fault
 * (a kernel writing out of bounds, a library that fails to load, a wrong result) fails at the call
 * that caused it, named, with the earlier stages' lines on screen and the records in $OUT.
 */
import assert from "node:assert/strict";

const root = new URL("../../../../", import.meta.url).pathname;

async function smoke(emulate: string) {
  const out = await Deno.makeTempDir();
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--deny-import", "src/bench/gpu_smoke.ts"],
    env: { STYLEPIPE_CUDA_EMULATE: emulate, OUT: out },
    cwd: root,
  }).output();
  const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  const json = JSON.parse(await Deno.readTextFile(`${out}/gpu-smoke.json`));
  await Deno.remove(out, { recursive: true });
  return { code: result.code, lines: text.split("\n"), json };
}

Deno.test("gpu-smoke on the emulated device: every stage OK; faults named where they happen", async () => {
  const [clean, oob, noLib, wrong] = await Promise.all(
    ["1", "kernel-oob", "library-load", "wrong-result"].map(smoke),
  );

  assert.equal(clean.code, 0, clean.lines.join("\n"));
  for (const stage of [2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    assert.ok(
      clean.lines.some((l) => l.startsWith(`STAGE ${stage} `) && / OK - /.test(l)),
      `${stage}`,
    );
  }
  assert.ok(clean.lines.includes("STAGE 5 kernel pool_backward (max) …"));
  assert.ok(
    clean.lines.some((l) => /^STAGE 7 cuDNN tf32 conv4_2 512→512 64×64 OK .* algo 0/.test(l)),
  );
  assert.ok(clean.json.records.every((r: { ok: boolean }) => r.ok));

  assert.equal(oob.code, 1);
  const firstFail = oob.lines.find((l) => / FAIL /.test(l));
  assert.match(firstFail!, /^STAGE 5 kernel relu FAIL cudaErrorIllegalAddress [0-9.]+ ms$/);
  assert.ok(oob.lines.some((l) => /^STAGE 5 kernel add_bias OK/.test(l)), "earlier calls shown");
  assert.ok(!oob.lines.some((l) => l.startsWith("STAGE 6")), "stops once the context is lost");

  assert.equal(noLib.code, 1);
  assert.ok(noLib.lines.includes("STAGE 2 dlopen libcudnn.so.9 …"));
  assert.ok(noLib.lines.some((l) => /^STAGE 2 dlopen libcudnn\.so\.9 FAIL DLOPEN /.test(l)));
  assert.ok(noLib.lines.some((l) => /cannot open shared object file/.test(l)));

  assert.equal(wrong.code, 1);
  const failures = wrong.json.records.filter((r: { ok: boolean }) => !r.ok)
    .map((r: { call: string; error: string }) => `${r.call}: ${r.error}`);
  assert.deepEqual(failures.filter((f: string) => !f.startsWith("objective tf32")), [
    "kernel gram_diff: MISMATCH",
    "objective fp32 gram: MISMATCH",
    "objective fp32 masked-gram: MISMATCH",
    "objective fp32 mean-covariance: MISMATCH",
  ]);
});
