/**
 * 0/1 masks and per-channel affine maps built only from ops that ONNX Runtime's CPU provider keeps
 * in its blocked NCHWc layout (depthwise 1×1 Conv, Clip), so the backward pass never leaves it.
 * Measured (commit 8aa47d4, 256², quiet): Greater/Where/MaxUnpool instead make ORT reorder tensors
 * to NCHW and back; with these helpers non-conv time fell 174 → 110 ms/step (reorders 43 → 24),
 * 13 % of a 512² step. The maths each helper stands for is in its doc.
 */
import { type GraphBuilder, int, ints } from "./builder.ts";

/**
 * Gain of the masks: min(1, GAIN·v) is exactly 1 for every v ≥ 1e-38 (float32 normals start at
 * 1.2e-38), so the masks are exact step functions except on denormal differences.
 */
const GAIN = 1e38;

/** scale·x (+ bias) per channel of x [1, C, H, W], as a depthwise 1×1 conv. */
export function channelAffine(
  b: GraphBuilder,
  x: string,
  channels: number,
  scale: number,
  bias?: number,
): string {
  const inputs = [x, b.filled([channels, 1, 1, 1], scale)];
  if (bias !== undefined) inputs.push(b.filled([channels], bias));
  return b.op("Conv", inputs, { kernel_shape: ints([1, 1]), group: int(channels) });
}

/** [y > 0] for y ≥ 0 (a ReLU's output): min(1, GAIN·y). */
export function positiveMask(b: GraphBuilder, y: string, channels: number): string {
  return b.op("Clip", [channelAffine(b, y, channels, GAIN), b.scalar(0), b.scalar(1)]);
}

/** [d = 0] for d ≤ 0: clip(GAIN·d + 1, 0, 1) (also 1 where d > 0; callers zero those). */
export function zeroMask(b: GraphBuilder, d: string, channels: number): string {
  return b.op("Clip", [channelAffine(b, d, channels, GAIN, 1), b.scalar(0), b.scalar(1)]);
}
