/**
 * Content loss (Gatys et al. 2015, eq. 1) as a tf op, normalized as in objective/content.ts: the mean, not half
 * the sum, of the squared differences between the image's activations and the content target.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

/**
 * mean((F − P)²) for activations F and target P of the same shape; with `mask` (broadcast against
 * F, e.g. [H, W, 1]) mean((M ⊙ (F − P))²), still over all entries of F.
 */
export function contentLoss(features: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const diff = tf.sub(features, target);
    return tf.mean(tf.square(mask ? tf.mul(diff, mask) : diff));
  });
}
