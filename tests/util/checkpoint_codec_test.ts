import assert from "node:assert/strict";
import {
  CheckpointFormatError,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../../src/util/checkpoint_codec.ts";

Deno.test("checkpoint round trip restores typed arrays bit for bit", () => {
  const x = new Float32Array([0.1, -3.4028234663852886e38, 1e-45, 7]);
  const history = [new Float32Array([1.5, 2.5, 3.5]), new Float32Array(0)];
  const state = {
    iteration: 25,
    prng: new Uint32Array([1, 0xffffffff, 3, 4]),
    optimizer: { kind: "lbfgs", x, history, rho: new Float64Array([0.1 + 0.2]), done: false },
    packed: new Uint8Array([83, 80, 0, 255, 7]),
    note: "tübingen",
    none: null,
  };
  const back = decodeCheckpoint(encodeCheckpoint(state)) as typeof state;
  assert.deepEqual(back, state);
  assert.ok(back.optimizer.x instanceof Float32Array);
  assert.ok(back.prng instanceof Uint32Array);
  assert.equal(back.optimizer.rho[0], 0.30000000000000004);
  assert.equal(back.optimizer.x[2], x[2]);
});

Deno.test("damaged checkpoints are rejected, never half-restored", () => {
  const bytes = encodeCheckpoint({ x: new Float32Array([1, 2, 3]), i: 4 });
  for (const at of [3, 12, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] ^= 1;
    assert.throws(() => decodeCheckpoint(bad), CheckpointFormatError, `flip at ${at}`);
  }
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, 20)), CheckpointFormatError);
  assert.throws(() => encodeCheckpoint({ loss: NaN }), RangeError);
});
