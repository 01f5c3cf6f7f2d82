/** In-memory VGG weights, independent of file format and engine. */
import type { VggArch } from "./layers.ts";

/** One convolution's parameters. */
export interface ConvWeights {
  /** Kernel, float32, shape [3, 3, in, out] (HWIO, TensorFlow's layout). */
  readonly kernel: Float32Array;
  /** Bias, float32, shape [out]. */
  readonly bias: Float32Array;
}

/**
 * A (possibly partial) VGG: the convolutions present, keyed by Gatys' name (`conv1_1` …), always a
 * prefix of the architecture's conv list. Input is RGB 0–255; preprocessing ("caffe": BGR, mean
 * subtraction) is applied by the engines as the first operation of the network.
 */
export interface VggWeights {
  /** Architecture. */
  readonly arch: VggArch;
  /** Convolutions present, in forward order. */
  readonly convs: ReadonlyMap<string, ConvWeights>;
  /** SHA-256 of the weights (hex) for provenance and cache keys; `synthetic:<seed>` for generated. */
  readonly id: string;
}

/** The Keras "caffe" mean, in BGR order, subtracted after RGB → BGR. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
