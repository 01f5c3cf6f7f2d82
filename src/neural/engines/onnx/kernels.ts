/**
 * VGG kernels in ONNX layout (OIHW). Converted when a graph is built and not kept: ONNX Runtime
 * holds its own copy, and a cache here would add another copy of the network to memory. The
 * flipped, transposed kernel of the input gradient is derived inside the graph (backward.ts), so
 * the model carries each kernel once.
 */
import type { ConvWeights, VggWeights } from "../../models/weights_types.ts";
import { oihwKernel } from "../layout.ts";

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
  const { kernel, inChannels, outChannels } = oihwKernel(conv, rgbInput);
  return { forward: kernel, bias: conv.bias, inChannels, outChannels };
}
