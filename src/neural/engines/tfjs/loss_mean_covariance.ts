/**
 * The mean-and-covariance style loss as tf ops (objective/mean_covariance.ts): the style is
 * matched on μ = Fᵀ1/(H·W) and Σ = (F − 1μᵀ)ᵀ(F − 1μᵀ)/(H·W·C) separately instead of on their
 * mixture G = Σ + μμᵀ/C. A departure from Gatys et al. (Gram only), after the Gaussian view of
 * style statistics (Li et al. 2017, "Demystifying Neural Style Transfer").
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";

/**
 * mean((Σ − S)²) + λ·mean((μ − m)²) of HWC activations [H, W, C] against the style's covariance S
 * ([C, C]) and mean m ([C]).
 */
export function meanCovarianceLoss(
  features: tf.Tensor3D,
  covariance: tf.Tensor2D,
  mean: tf.Tensor1D,
  meanWeight: number,
): tf.Scalar {
  return tf.tidy(() => {
    const [h, w, c] = features.shape;
    const rows = tf.reshape(features, [h * w, c]) as tf.Tensor2D;
    const mu = tf.mean(rows, 0);
    const centred = tf.sub(rows, mu);
    const sigma = tf.div(tf.matMul(centred, centred, true, false), h * w * c);
    const covPart = tf.mean(tf.squaredDifference(sigma, covariance));
    const meanPart = tf.mul(tf.mean(tf.squaredDifference(mu, mean)), meanWeight);
    return tf.add(covPart, meanPart) as tf.Scalar;
  });
}
