/**
 * Gram matrices and the style loss (Gatys et al. 2015, eqs. 3–5) as tf ops, normalized as in
 * objective/gram.ts: G = FᵀF / (H·W·C) and the loss is the mean over the C² entries (instead of the paper's
 * 1/(4N²M²) factor, so per-layer weights are comparable across layer sizes). An optional region mask
 * weights the rows of F (pixels) before the product.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

/**
 * Normalized Gram matrix of HWC activations [H, W, C] → [C, C]. With `mask` ([H, W], values 0–1,
 * already at the layer's resolution) each pixel's feature vector is multiplied by its mask value.
 */
export function gramTensor(features: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [h, w, c] = features.shape;
    const weighted = mask ? tf.mul(features, tf.expandDims(mask, 2)) : features;
    const rows = tf.reshape(weighted, [h * w, c]) as tf.Tensor2D;
    return tf.div(tf.matMul(rows, rows, true, false), h * w * c) as tf.Tensor2D;
  });
}

/** mean((G − A)²): the style loss of activations against a target Gram matrix A ([C, C]). */
export function styleLoss(
  features: tf.Tensor3D,
  targetGram: tf.Tensor2D,
  mask?: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(gramTensor(features, mask), targetGram)));
}
