/**
 * VGG's 3×3 stride-1 "same" convolution, with a choice of how its input gradient is computed.
 *
 * `builtin` uses tfjs' registered gradient (Conv2DBackpropInput). `flipped` computes the same
 * quantity as a forward conv2d of dy with the kernel flipped spatially and its in/out channels
 * swapped: for a 3×3 kernel, stride 1 and symmetric padding 1, dx = conv2d(dy, rot180(K)ᵀ, "same").
 * On the wasm backend the forward conv is XNNPACK-accelerated while Conv2DBackpropInput is a plain
 * loop, so `flipped` is several times faster there (and equal to the built-in, see the tests).
 * A reflect/replicate-padded conv (plan/network.ts {@link Padding}) pads explicitly, then runs a
 * "valid" conv, whose input gradient is the flipped kernel's conv with 2 pixels of zero padding.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import type { Padding } from "../../plan/network.ts";

/** How a convolution's input gradient is computed. */
export type ConvInputGrad = "builtin" | "flipped";

/** A 3×3 kernel [3, 3, in, out] and, for `flipped`, its precomputed gradient kernel [3, 3, out, in]. */
export interface ConvKernel {
  readonly kernel: tf.Tensor4D;
  readonly gradKernel?: tf.Tensor4D;
}

/** rot180 over the spatial axes and in/out swapped: the kernel whose conv is the input gradient. */
export function flippedTransposedKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]));
}

/** Prepares a kernel for {@link conv3x3}; the caller owns (and disposes) both tensors. */
export function prepareKernel(kernel: tf.Tensor4D, inputGrad: ConvInputGrad): ConvKernel {
  return inputGrad === "flipped" ? { kernel, gradKernel: flippedTransposedKernel(kernel) } : {
    kernel,
  };
}

/** conv2d(x, K), stride 1, its 1-pixel border per `padding`, x as NHWC. */
export function conv3x3(x: tf.Tensor4D, k: ConvKernel, padding: Padding): tf.Tensor4D {
  return padding === "zero" ? conv3x3Same(x, k) : conv3x3Valid(padBorder(x, padding), k);
}

/**
 * x [1, H, W, C] with a 1-pixel border: reflect (x[−1] = x[1]) or replicate (x[−1] = x[0]).
 * Built from slices and concat, whose gradients add each border value back onto its source:
 * tf.mirrorPad's registered gradient (tfjs-core 4.22) only slices the interior and drops them.
 */
export function padBorder(x: tf.Tensor4D, padding: "reflect" | "replicate"): tf.Tensor4D {
  const along = (t: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D => {
    const n = t.shape[axis];
    const row = (at: number) => {
      const begin = [0, 0, 0, 0], size = [-1, -1, -1, -1];
      begin[axis] = at;
      size[axis] = 1;
      return tf.slice(t, begin, size);
    };
    const [top, bottom] = padding === "reflect" ? [1, n - 2] : [0, n - 1];
    return tf.concat([row(top), t, row(bottom)], axis);
  };
  return along(along(x, 1), 2);
}

/** conv2d(x, K), stride 1, "valid" (x already padded); the input gradient per {@link ConvKernel}. */
function conv3x3Valid(x: tf.Tensor4D, k: ConvKernel): tf.Tensor4D {
  const gradKernel = k.gradKernel;
  if (!gradKernel) return tf.conv2d(x, k.kernel, 1, "valid");
  const full: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [2, 2],
    [2, 2],
    [0, 0],
  ];
  const conv = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.conv2d(inputs[0] as tf.Tensor4D, k.kernel, 1, "valid"),
    gradFunc: (dy: tf.Tensor) => tf.conv2d(dy as tf.Tensor4D, gradKernel, 1, full),
  }));
  return conv(x) as tf.Tensor4D;
}

/** conv2d(x, K), stride 1, "same" padding, x as NHWC; the input gradient per {@link ConvKernel}. */
export function conv3x3Same(x: tf.Tensor4D, k: ConvKernel): tf.Tensor4D {
  const gradKernel = k.gradKernel;
  if (!gradKernel) return tf.conv2d(x, k.kernel, 1, "same");
  // The kernels are constants of the objective (not differentiated), so only x is an input here.
  const conv = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.conv2d(inputs[0] as tf.Tensor4D, k.kernel, 1, "same"),
    gradFunc: (dy: tf.Tensor) => tf.conv2d(dy as tf.Tensor4D, gradKernel, 1, "same"),
  }));
  return conv(x) as tf.Tensor4D;
}
