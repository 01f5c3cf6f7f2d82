/**
 * VGG kernels in ONNX layout (OIHW). Converted when a graph is built and not kept: ONNX Runtime
 * holds its own copy, and a cache here would add another copy of the network to memory. The
 * flipped, transposed kernel of the input gradient is derived inside the graph (backward.ts), so
 * the model carries each kernel once.
 */
import type { ConvWeights, VggWeights } from "../../models/weights_types.ts";

/** One convolution's tensors for the ONNX graphs. */
export interface OnnxConvKernels {
  /** [out, in, 3, 3]. */
  readonly forward: Float32Array;
  /** [out]. */
  readonly bias: Float32Array;
  readonly inChannels: number;
  readonly outChannels: number;
}

/**
 * The kernels of conv `name`. With `rgbInput`, the input channels are reordered from the caffe BGR
 * order to RGB, folding preprocessing's channel swap into the first conv (exact: a channel
 * permutation commutes with any per-channel padding: zero, reflect, edge).
 */
export function onnxKernels(weights: VggWeights, name: string, rgbInput: boolean): OnnxConvKernels {
  const conv = weights.convs.get(name);
  if (!conv) throw new RangeError(`weights ${weights.id} have no ${name}`);
  return convert(conv, rgbInput);
}

function convert(conv: ConvWeights, rgbInput: boolean): OnnxConvKernels {
  const outC = conv.bias.length;
  const inC = conv.kernel.length / (9 * outC);
  const forward = new Float32Array(conv.kernel.length);
  for (let kh = 0; kh < 3; kh++) {
    for (let kw = 0; kw < 3; kw++) {
      for (let c = 0; c < inC; c++) {
        const src = rgbInput ? inC - 1 - c : c;
        const base = ((kh * 3 + kw) * inC + src) * outC;
        for (let m = 0; m < outC; m++) {
          forward[((m * inC + c) * 3 + kh) * 3 + kw] = conv.kernel[base + m];
        }
      }
    }
  }
  return { forward, bias: conv.bias, inChannels: inC, outChannels: outC };
}
