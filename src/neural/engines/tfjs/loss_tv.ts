/**
 * Total-variation regularizer as a tf op, as defined in objective/tv.ts: the sum of squared differences
 * between vertically and horizontally adjacent pixels, over all channels (0–255 scale).
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

/** Σ (x[i+1,j,c] − x[i,j,c])² + (x[i,j+1,c] − x[i,j,c])² for an HWC image [H, W, C]. */
export function totalVariation(image: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [h, w, c] = image.shape;
    const down = tf.squaredDifference(
      tf.slice(image, [1, 0, 0], [h - 1, w, c]),
      tf.slice(image, [0, 0, 0], [h - 1, w, c]),
    );
    const right = tf.squaredDifference(
      tf.slice(image, [0, 1, 0], [h, w - 1, c]),
      tf.slice(image, [0, 0, 0], [h, w - 1, c]),
    );
    return tf.add(tf.sum(down), tf.sum(right)) as tf.Scalar;
  });
}
