/** The tfjs VGG forward against a direct host implementation (preprocessing, convs, pooling). */
import assert from "node:assert/strict";
import { tfjsCpuProvider } from "../../../../src/neural/engines/tfjs/cpu.ts";
import { layerShape } from "../../../../src/neural/plan/network.ts";
import { CAFFE_MEAN_BGR, type ConvWeights } from "../../../../src/neural/models/weights_types.ts";
import { seededImage, smallWeights } from "../_fixtures.ts";

/** 3×3 "same" conv + bias of an HWC array, float64. */
function hostConv(
  x: Float64Array,
  h: number,
  w: number,
  cin: number,
  p: ConvWeights,
): Float64Array {
  const cout = p.bias.length;
  const out = new Float64Array(h * w * cout);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let o = 0; o < cout; o++) {
        let s = p.bias[o];
        for (let di = 0; di < 3; di++) {
          for (let dj = 0; dj < 3; dj++) {
            const y = i + di - 1, z = j + dj - 1;
            if (y < 0 || y >= h || z < 0 || z >= w) continue;
            for (let c = 0; c < cin; c++) {
              s += x[(y * w + z) * cin + c] * p.kernel[((di * 3 + dj) * cin + c) * cout + o];
            }
          }
        }
        out[(i * w + j) * cout + o] = s;
      }
    }
  }
  return out;
}

/** 2×2 stride-2 valid pooling, float64. */
function hostPool(x: Float64Array, h: number, w: number, c: number, max: boolean): Float64Array {
  const [ph, pw] = [Math.floor(h / 2), Math.floor(w / 2)];
  const out = new Float64Array(ph * pw * c);
  for (let i = 0; i < ph; i++) {
    for (let j = 0; j < pw; j++) {
      for (let k = 0; k < c; k++) {
        const v = [0, 1, 2, 3].map((t) => x[((2 * i + (t >> 1)) * w + 2 * j + (t & 1)) * c + k]);
        out[(i * pw + j) * c + k] = max ? Math.max(...v) : (v[0] + v[1] + v[2] + v[3]) / 4;
      }
    }
  }
  return out;
}

function assertClose(actual: Float32Array, expected: Float64Array, what: string) {
  assert.equal(actual.length, expected.length, what);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const err = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
  assert.ok(scale > 0 && err / scale < 1e-5, `${what}: error ${err} of ${scale}`);
}

Deno.test("VGG forward: caffe preprocessing, conv + bias, ReLU, max/avg pooling (odd size)", async () => {
  const engine = await tfjsCpuProvider.create();
  const [h, w] = [5, 7];
  const image = seededImage(71, h, w);
  // RGB → BGR, minus the caffe mean
  const pre = new Float64Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    for (let c = 0; c < 3; c++) pre[p * 3 + c] = image[p * 3 + 2 - c] - CAFFE_MEAN_BGR[c];
  }
  const conv11 = hostConv(pre, h, w, 3, smallWeights.convs.get("conv1_1")!);
  const relu12 = hostConv(
    conv11.map((v) => Math.max(0, v)),
    h,
    w,
    64,
    smallWeights.convs.get("conv1_2")!,
  )
    .map((v) => Math.max(0, v));
  for (const pooling of ["max", "avg"] as const) {
    const f = await engine.extract(smallWeights, pooling, { height: h, width: w, data: image }, [
      "conv1_1",
      "pool1",
    ]);
    assertClose(f.get("conv1_1")!.data, conv11, "conv1_1");
    assertClose(f.get("pool1")!.data, hostPool(relu12, h, w, 64, pooling === "max"), pooling);
    assert.deepEqual(layerShape("vgg19", "pool1", h, w), { height: 2, width: 3, channels: 64 });
  }
});
