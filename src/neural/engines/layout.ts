/**
 * The memory layouts the engines convert between, written once: activations HWC (the host's and
 * the targets') ↔ CHW (ONNX, cuDNN), and conv kernels HWIO (the weights files') → OIHW.
 */
import type { ConvWeights } from "../models/weights_types.ts";

/** HWC → CHW for `c` channels. */
export function hwcToChw(hwc: Float32Array, c: number): Float32Array {
  const hw = hwc.length / c;
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[k * hw + p] = hwc[p * c + k];
  return out;
}

/** CHW → HWC for `c` channels. */
export function chwToHwc(chw: Float32Array, c: number): Float32Array {
  const hw = chw.length / c;
  const out = new Float32Array(chw.length);
  for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[p * c + k] = chw[k * hw + p];
  return out;
}

/** A 3×3 conv kernel in OIHW layout, [out, in, 3, 3]. */
export interface OihwKernel {
  readonly kernel: Float32Array;
  readonly inChannels: number;
  readonly outChannels: number;
}

/**
 * The kernel of `conv` (HWIO, [3, 3, in, out]) as OIHW. With `reverseInput` the input channels are
 * taken in reverse order (caffe's BGR as RGB, for a first conv that reads the RGB image).
 */
export function oihwKernel(conv: ConvWeights, reverseInput = false): OihwKernel {
  const outC = conv.bias.length;
  const inC = conv.kernel.length / (9 * outC);
  const kernel = new Float32Array(conv.kernel.length);
  for (let kh = 0; kh < 3; kh++) {
    for (let kw = 0; kw < 3; kw++) {
      for (let c = 0; c < inC; c++) {
        const src = reverseInput ? inC - 1 - c : c;
        const base = ((kh * 3 + kw) * inC + src) * outC;
        for (let m = 0; m < outC; m++) {
          kernel[((m * inC + c) * 3 + kh) * 3 + kw] = conv.kernel[base + m];
        }
      }
    }
  }
  return { kernel, inChannels: inC, outChannels: outC };
}
