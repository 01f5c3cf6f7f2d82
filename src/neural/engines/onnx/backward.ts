/**
 * The backward pass of the VGG loss graph, written out node by node (ONNX Runtime's inference
 * build has no autodiff). Every function appends nodes to a {@link GraphBuilder} and returns the
 * name of the gradient tensor it produced. Tensors are NCHW with N = 1 unless stated otherwise.
 */
import type { LayerShape } from "../../plan/network.ts";
import { float, type GraphBuilder, int, ints, str } from "./builder.ts";
import { channelAffine, positiveMask, zeroMask } from "./nchwc_masks.ts";

/**
 * The kernel [in, out, 3, 3] whose convolution is the input gradient of a 3×3 conv with `kernel`
 * [out, in, 3, 3]: in/out channels swapped, the 3×3 window rotated by 180°. Its inputs are all
 * initializers, so ONNX Runtime folds it into a constant when the session is built.
 */
export function flippedKernel(b: GraphBuilder, kernel: string): string {
  const swapped = b.op("Transpose", [kernel], { perm: ints([1, 0, 2, 3]) });
  // Step −1 over H and W from index 2; end −4 (+3 = −1) means "past index 0".
  return b.op("Slice", [
    swapped,
    b.int64s([2, 2]),
    b.int64s([-4, -4]),
    b.int64s([2, 3]),
    b.int64s([-1, -1]),
  ]);
}

/**
 * ∂/∂input of a 3×3 stride-1 conv: a conv of the output gradient with the flipped kernel, zero
 * padded by `pad` — 1 for a "same" conv, 2 (the full correlation) for a conv of an input that was
 * padded beforehand (its gradient then has that input's size, border included).
 */
export function convInputGrad(
  b: GraphBuilder,
  grad: string,
  flippedKernel: string,
  pad: 1 | 2 = 1,
): string {
  return b.op("Conv", [grad, flippedKernel], {
    kernel_shape: ints([3, 3]),
    pads: ints([pad, pad, pad, pad]),
  });
}

/** The ONNX Pad mode of a border padding. */
export function padMode(padding: "reflect" | "replicate"): "reflect" | "edge" {
  return padding === "reflect" ? "reflect" : "edge";
}

/**
 * The adjoint of a 1-pixel reflect/edge Pad: the gradient `grad` [1, C, H+2, W+2] of the padded
 * tensor folded back onto the tensor [1, C, H, W] (`shape`): the interior, plus each border row
 * added onto the row it copies (reflect: rows 1 and H−2; edge: rows 0 and H−1), then the same for
 * the columns (so a corner reaches its source pixel through both folds).
 */
export function padGrad(
  b: GraphBuilder,
  grad: string,
  shape: LayerShape,
  padding: "reflect" | "replicate",
): string {
  const fold = (g: string, axis: 2 | 3, n: number) => {
    const axes = b.int64s([axis]);
    const slice = (from: number, to: number) =>
      b.op("Slice", [g, b.int64s([from]), b.int64s([to]), axes]);
    const [first, last] = padding === "reflect" ? [1, n - 2] : [0, n - 1];
    const placed = (row: string, at: number) => {
      const pads = [0, 0, 0, 0, 0, 0, 0, 0];
      pads[axis] = at;
      pads[axis + 4] = n - 1 - at;
      return b.op("Pad", [row, b.int64s(pads)]);
    };
    return b.op("Sum", [
      slice(1, n + 1),
      placed(slice(0, 1), first),
      placed(slice(n + 1, n + 2), last),
    ]);
  };
  return fold(fold(grad, 2, shape.height), 3, shape.width);
}

/** [y > 0] for a ReLU's output `y` (C channels): where its gradient passes. */
export function reluMask(b: GraphBuilder, y: string, channels: number): string {
  return positiveMask(b, y, channels);
}

/** ReLU: the gradient passes where the ReLU's output is positive (`mask` from reluMask). */
export function reluGrad(b: GraphBuilder, grad: string, mask: string): string {
  return b.op("Mul", [grad, mask]);
}

/** Nearest-neighbour 2× enlargement of [1, C, h, w] to `inputShape` (floored edges get 0). */
function upsample2(
  b: GraphBuilder,
  x: string,
  pooledShape: LayerShape,
  inputShape: LayerShape,
): string {
  const { height: h, width: w } = pooledShape;
  const { height: inH, width: inW } = inputShape;
  const scales = b.floats(b.fresh("scales"), [4], new Float32Array([1, 1, 2, 2]));
  const up = b.op("Resize", [x, "", scales], {
    mode: str("nearest"),
    coordinate_transformation_mode: str("asymmetric"),
    nearest_mode: str("floor"),
  });
  if (inH === 2 * h && inW === 2 * w) return up;
  return b.op("Pad", [up, b.int64s([0, 0, 0, 0, 0, 0, inH - 2 * h, inW - 2 * w])]);
}

/**
 * 2×2 stride-2 max pool of a ReLU's output `input` (pooled: `pooled`), through that ReLU: each
 * output gradient goes to the inputs equal to their window's maximum when that maximum is
 * positive (0 elsewhere, and on floored odd edges). The ReLU's own mask is thereby applied: at a
 * positive maximum the ReLU passes, and an all-zero window gets nothing. A window with two equal
 * positive maxima (float-exact ties, which conv outputs practically never have) routes the
 * gradient to both, where tfjs picks the first.
 */
export function maxPoolReluGrad(
  b: GraphBuilder,
  grad: string,
  input: string,
  pooled: string,
  pooledShape: LayerShape,
  inputShape: LayerShape,
): string {
  const { channels } = pooledShape;
  const passed = reluGrad(b, grad, reluMask(b, pooled, channels));
  const minusMax = upsample2(b, channelAffine(b, pooled, channels, -1), pooledShape, inputShape);
  // ≤ 0 inside the windows, exactly 0 at their maxima (≥ 0 on floored edges, whose gradient is 0).
  const belowMax = b.op("Sum", [input, minusMax]);
  const isMax = zeroMask(b, belowMax, channels);
  return b.op("Mul", [upsample2(b, passed, pooledShape, inputShape), isMax]);
}

/** 2×2 stride-2 average pool: each output gradient spread as ¼ over its window; floored edges 0. */
export function avgPoolGrad(
  b: GraphBuilder,
  grad: string,
  pooledShape: LayerShape,
  inputShape: LayerShape,
): string {
  const { channels: c, height: h, width: w } = pooledShape;
  const { height: inH, width: inW } = inputShape;
  const quarter = b.op("Mul", [
    b.op("Reshape", [grad, b.int64s([1, c, h, 1, w, 1])]),
    b.scalar(0.25),
  ]);
  const spread = b.op("Expand", [quarter, b.int64s([1, c, h, 2, w, 2])]);
  const up = b.op("Reshape", [spread, b.int64s([1, c, 2 * h, 2 * w])]);
  if (inH === 2 * h && inW === 2 * w) return up;
  return b.op("Pad", [up, b.int64s([0, 0, 0, 0, 0, 0, inH - 2 * h, inW - 2 * w])]);
}

/**
 * Content term of one target: `scale · mean((F − P)²)` and its gradient `2·scale·(F − P)/N`; with
 * `mask` M [1, 1, H, W], `scale · Σ (M ⊙ (F − P))² / N` and `2·scale·M² ⊙ (F − P)/N`.
 */
export function contentLossAndGrad(
  b: GraphBuilder,
  features: string,
  target: string,
  scale: string,
  count: number,
  mask?: string,
): { loss: string; grad: string } {
  const diff = b.op("Sub", [features, target]);
  const masked = mask ? b.op("Mul", [diff, mask]) : diff;
  const sq = b.op("ReduceSumSquare", [masked], { keepdims: int(0) });
  const loss = b.op("Mul", [b.op("Mul", [sq, scale]), b.scalar(1 / count)]);
  const weighted = mask ? b.op("Mul", [masked, mask]) : diff;
  const grad = b.op("Mul", [weighted, b.op("Mul", [scale, b.scalar(2 / count)])]);
  return { loss, grad };
}

/** Rows R = M ⊙ F as C × HW of features F [1, C, H, W] and a mask M [1, 1, H, W]. */
export function maskedRows(b: GraphBuilder, features: string, shape: LayerShape, mask: string) {
  const { channels: c, height: h, width: w } = shape;
  return b.op("Reshape", [b.op("Mul", [features, mask]), b.int64s([c, h * w])]);
}

/**
 * The `linear` term (engine.ts) on features F [1, C, H, W] with rows R_M = M ⊙ F (C × HW):
 * loss = scale · (⟨Q, R_M R_Mᵀ⟩ + ⟨q, R_M 1⟩) for Q `gram` [C, C] and q `sum` [C, 1], computed as
 * scale · Σ R_M ⊙ (½(Q + Qᵀ) R_M + q1ᵀ), and ∂loss/∂F = scale · M ⊙ ((Q + Qᵀ) R_M + q1ᵀ).
 */
export function linearLossAndGrad(
  b: GraphBuilder,
  features: string,
  shape: LayerShape,
  gram: string,
  sum: string,
  scale: string,
  mask: string,
): { loss: string; grad: string } {
  const { channels: c, height: h, width: w } = shape;
  const rows = maskedRows(b, features, shape, mask);
  const sym = b.op("Add", [gram, b.op("Transpose", [gram], { perm: ints([1, 0]) })]);
  const product = b.op("Gemm", [sym, rows]);
  const dRows = b.op("Add", [product, sum]);
  const half = b.op("Add", [b.op("Mul", [product, b.scalar(0.5)]), sum]);
  const value = b.op("ReduceSum", [b.op("Mul", [rows, half])], { keepdims: int(0) });
  const loss = b.op("Mul", [value, scale]);
  const dF = b.op("Reshape", [dRows, b.int64s([1, c, h, w])]);
  return { loss, grad: b.op("Mul", [b.op("Mul", [dF, mask]), scale]) };
}

/**
 * Style term of one target on features F [1, C, H, W] (optionally masked row-wise by M [1,1,H,W]):
 * G = Fm Fmᵀ / (H·W·C), loss = scale · mean((G − A)²), and
 * ∂loss/∂Fm = scale · 2 (D + Dᵀ) Fm / (C² · H·W·C) with D = G − A (Dᵀ keeps it exact for any A),
 * then ∂loss/∂F = M ⊙ ∂loss/∂Fm.
 */
export function styleLossAndGrad(
  b: GraphBuilder,
  features: string,
  shape: LayerShape,
  gramTarget: string,
  scale: string,
  mask: string | undefined,
): { loss: string; grad: string } {
  const { channels: c, height: h, width: w } = shape;
  const n = h * w * c;
  const masked = mask ? b.op("Mul", [features, mask]) : features;
  const rows = b.op("Reshape", [masked, b.int64s([c, h * w])]);
  const gram = b.op("Gemm", [rows, rows], { transB: int(1), alpha: float(1 / n) });
  const diff = b.op("Sub", [gram, gramTarget]);
  const sq = b.op("ReduceSumSquare", [diff], { keepdims: int(0) });
  const loss = b.op("Mul", [b.op("Mul", [sq, scale]), b.scalar(1 / (c * c))]);
  const sym = b.op("Add", [diff, b.op("Transpose", [diff], { perm: ints([1, 0]) })]);
  const scaled = b.op("Mul", [sym, scale]);
  const dRows = b.op("Gemm", [scaled, rows], { alpha: float(2 / (c * c * n)) });
  const dMasked = b.op("Reshape", [dRows, b.int64s([1, c, h, w])]);
  return { loss, grad: mask ? b.op("Mul", [dMasked, mask]) : dMasked };
}

/**
 * Mean-and-covariance term on features F [1, C, H, W] (rows R = F as C × HW): μ = R1/HW,
 * Σ = (R − μ1ᵀ)(R − μ1ᵀ)ᵀ / (HW·C), loss = scale · mean((Σ − S)²) + meanScale · mean((μ − m)²),
 * and ∂loss/∂R = scale · 2 (D + Dᵀ)(R − μ1ᵀ) / (C² · HW·C) + 2·meanScale·(μ − m)1ᵀ / (C·HW) with
 * D = Σ − S. The centring's own term, −(∂/∂(R − μ1ᵀ))·11ᵀ/HW, is 0 because R − μ1ᵀ has zero row
 * sums, so it is left out.
 */
export function meanCovarianceLossAndGrad(
  b: GraphBuilder,
  features: string,
  shape: LayerShape,
  covarianceTarget: string,
  meanTarget: string,
  scale: string,
  meanScale: string,
): { loss: string; grad: string } {
  const { channels: c, height: h, width: w } = shape;
  const hw = h * w;
  const n = hw * c;
  const rows = b.op("Reshape", [features, b.int64s([c, hw])]);
  const mean = b.op("ReduceMean", [rows], { axes: ints([1]), keepdims: int(1) });
  const centred = b.op("Sub", [rows, mean]);
  const covariance = b.op("Gemm", [centred, centred], { transB: int(1), alpha: float(1 / n) });
  const diff = b.op("Sub", [covariance, covarianceTarget]);
  const meanDiff = b.op("Sub", [mean, meanTarget]);
  const covSq = b.op("ReduceSumSquare", [diff], { keepdims: int(0) });
  const meanSq = b.op("ReduceSumSquare", [meanDiff], { keepdims: int(0) });
  const loss = b.op("Add", [
    b.op("Mul", [b.op("Mul", [covSq, scale]), b.scalar(1 / (c * c))]),
    b.op("Mul", [b.op("Mul", [meanSq, meanScale]), b.scalar(1 / c)]),
  ]);
  const sym = b.op("Add", [diff, b.op("Transpose", [diff], { perm: ints([1, 0]) })]);
  const dCov = b.op("Gemm", [b.op("Mul", [sym, scale]), centred], {
    alpha: float(2 / (c * c * n)),
  });
  const dMean = b.op("Mul", [meanDiff, b.op("Mul", [meanScale, b.scalar(2 / (c * hw))])]);
  const dRows = b.op("Add", [dCov, dMean]);
  return { loss, grad: b.op("Reshape", [dRows, b.int64s([1, c, h, w])]) };
}

/**
 * Total variation of x [H, W, 3]: Σ (x[i+1,j] − x[i,j])² + (x[i,j+1] − x[i,j])², and its gradient
 * 2·(Δv shifted down − Δv + Δh shifted right − Δh), both multiplied by `scale`.
 */
export function tvLossAndGrad(
  b: GraphBuilder,
  x: string,
  height: number,
  width: number,
  scale: string,
): { loss: string; grad: string } {
  const parts: { sq: string; grad: string }[] = [];
  const axisDiff = (axis: 0 | 1, n: number) => {
    if (n < 2) return;
    const axes = b.int64s([axis]);
    const hi = b.op("Slice", [x, b.int64s([1]), b.int64s([n]), axes]);
    const lo = b.op("Slice", [x, b.int64s([0]), b.int64s([n - 1]), axes]);
    const d = b.op("Sub", [hi, lo]);
    const before = [0, 0, 0, 0, 0, 0], after = [0, 0, 0, 0, 0, 0];
    before[axis] = 1;
    after[axis + 3] = 1;
    // ∂/∂x[k] of Σ d[k]² where d[k] = x[k+1] − x[k]: 2·d[k−1] − 2·d[k].
    const g = b.op("Sub", [b.op("Pad", [d, b.int64s(before)]), b.op("Pad", [d, b.int64s(after)])]);
    parts.push({ sq: b.op("ReduceSumSquare", [d], { keepdims: int(0) }), grad: g });
  };
  axisDiff(0, height);
  axisDiff(1, width);
  if (parts.length === 0) {
    return { loss: b.scalar(0), grad: b.op("Mul", [x, b.scalar(0)]) };
  }
  const sum = (names: string[]) => (names.length === 1 ? names[0] : b.op("Sum", names));
  const loss = b.op("Mul", [sum(parts.map((p) => p.sq)), scale]);
  const grad = b.op("Mul", [sum(parts.map((p) => p.grad)), b.op("Mul", [scale, b.scalar(2)])]);
  return { loss, grad };
}
