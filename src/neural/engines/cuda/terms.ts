/**
 * The loss terms on the device, one function per term kind: each uploads its targets, writes its
 * weighted loss into double slots and adds its gradient into the layer's gradient (NCHW). A
 * layer's features F are read by cuBLAS as the column-major hw × c matrix.
 */
import type { LossTerm } from "../../objective/terms.ts";
import { EngineUnavailableError } from "../engine.ts";
import type { CudaDevice, DeviceArray } from "./device.ts";
import { hwcToChw } from "../layout.ts";

/** A loss term as the objective runs it. */
export interface DeviceTerm {
  /** The layer it reads (undefined: the image). */
  readonly layer: string | undefined;
  readonly group: "content" | "style" | "tv";
  /** How many double slots its parts take (their sum is the term). */
  readonly slots: number;
  /** Writes the weighted term's parts into the doubles `slots[slot…]`, adds its gradient into `grad`. */
  lossAndGrad(
    values: DeviceArray,
    grad: DeviceArray | undefined,
    slots: Deno.PointerValue,
    slot: number,
  ): void;
  dispose(): void;
}

/** Device arrays a term owns, freed together. */
class Owned {
  readonly #arrays: DeviceArray[] = [];
  constructor(readonly device: CudaDevice) {}
  upload(a: Float32Array): DeviceArray {
    return this.#keep(this.device.upload(a));
  }
  scratch(n: number): DeviceArray {
    return this.#keep(this.device.alloc(n));
  }
  dispose = (): void => {
    for (const a of this.#arrays.splice(0)) this.device.free(a);
  };
  #keep(a: DeviceArray): DeviceArray {
    this.#arrays.push(a);
    return a;
  }
}

/** `term` on `device` (the image is height × width; tv reads it). */
export function deviceTerm(
  device: CudaDevice,
  term: LossTerm,
  height: number,
  width: number,
): DeviceTerm {
  const owned = new Owned(device);
  try {
    switch (term.kind) {
      case "content":
        return term.mask ? maskedContentTerm(owned, term, term.mask) : contentTerm(owned, term);
      case "linear":
        return linearTerm(owned, term);
      case "gram":
      case "masked-gram":
        return gramTerm(owned, term);
      case "mean-covariance":
        return meanCovarianceTerm(owned, term);
      case "tv":
        return tvTerm(owned, term, height, width);
      default: {
        const kind: never = term;
        throw new EngineUnavailableError(
          "cuda",
          `engine cuda does not implement the loss term ${
            (kind as { kind: string }).kind
          } yet; use engine onnx`,
        );
      }
    }
  } catch (e) {
    owned.dispose();
    throw e;
  }
}

/**
 * C ← alpha · op(A) op(B) + beta · C on a layer's packed column-major arrays: the leading
 * dimensions follow from the shapes, so a call names only what differs.
 */
function layerGemm(d: CudaDevice) {
  return (
    transA: boolean,
    transB: boolean,
    [m, n, k]: [number, number, number],
    alpha: number,
    a: DeviceArray,
    b: DeviceArray,
    beta: number,
    c: DeviceArray,
  ): void =>
    d.gemm({
      transA,
      transB,
      m,
      n,
      k,
      alpha,
      a,
      lda: transA ? k : m,
      b,
      ldb: transB ? n : k,
      beta,
      c,
      ldc: m,
    });
}

/** w/n · ‖F − P‖²; gradient 2w/n · (F − P). */
function contentTerm(owned: Owned, term: Extract<LossTerm, { kind: "content" }>): DeviceTerm {
  const d = owned.device;
  const { height: h, width: w, channels: c } = term.shape;
  const n = h * w * c;
  const target = owned.upload(hwcToChw(term.target, c));
  return {
    layer: term.layer,
    group: "content",
    slots: 1,
    dispose: owned.dispose,
    lossAndGrad(f, grad, slots, slot) {
      d.reduce("sqdiff", slots, slot, term.weight / n, f, target);
      d.launch("content_grad", n, { g: grad!, f, p: target, n, coef: 2 * term.weight / n });
    },
  };
}

/** w/n · ‖M ⊙ (F − P)‖²; gradient 2w/n · M² ⊙ (F − P) (objective/content.ts, tiled.ts). */
function maskedContentTerm(
  owned: Owned,
  term: Extract<LossTerm, { kind: "content" }>,
  mask: Float32Array,
): DeviceTerm {
  const d = owned.device;
  const { height: h, width: w, channels: c } = term.shape;
  const hw = h * w, n = hw * c;
  const m = owned.upload(mask);
  const maskedTarget = owned.scratch(n);
  d.launch("mask_rows", n, {
    f: owned.upload(hwcToChw(term.target, c)),
    m,
    out: maskedTarget,
    c,
    hw,
  });
  const masked = owned.scratch(n);
  const diff = owned.scratch(n);
  return {
    layer: term.layer,
    group: "content",
    slots: 1,
    dispose: owned.dispose,
    lossAndGrad(f, grad, slots, slot) {
      d.launch("mask_rows", n, { f, m, out: masked, c, hw });
      d.reduce("sqdiff", slots, slot, term.weight / n, masked, maskedTarget);
      d.launch("v_sub", n, { n, x: masked, y: maskedTarget, out: diff });
      d.launch("v_scale", n, { n, a: 2 * term.weight / n, x: diff, out: diff });
      d.launch("mask_rows_acc", n, { g: grad!, t: diff, m, c, hw });
    },
  };
}

/**
 * w · (⟨Q, (MF)ᵀ(MF)⟩ + ⟨q, (MF)ᵀ1⟩) (objective/linear.ts), with B = (MF)·w(Q + Qᵀ) + 2·1·(wq)ᵀ:
 * value ½·⟨MF, B⟩, gradient M ⊙ (B − 1·(wq)ᵀ).
 */
function linearTerm(owned: Owned, term: Extract<LossTerm, { kind: "linear" }>): DeviceTerm {
  const d = owned.device;
  const { height: h, width: w, channels: c } = term.shape;
  const hw = h * w, n = hw * c;
  const sym = new Float32Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      sym[i * c + j] = term.weight * (term.gram[i * c + j] + term.gram[j * c + i]);
    }
  }
  const factor = owned.upload(sym);
  const sum = owned.upload(term.sum.map((v) => term.weight * v));
  const mask = owned.upload(term.mask);
  const ones = owned.upload(new Float32Array(hw).fill(1));
  const rows = owned.scratch(n);
  const b = owned.scratch(n);
  const gemm = layerGemm(d);
  const outer = (alpha: number) => gemm(false, true, [hw, c, 1], alpha, ones, sum, 1, b);
  return {
    layer: term.layer,
    group: "style",
    slots: 1,
    dispose: owned.dispose,
    lossAndGrad(f, grad, slots, slot) {
      d.launch("mask_rows", n, { f, m: mask, out: rows, c, hw });
      gemm(false, false, [hw, c, c], 1, rows, factor, 0, b);
      outer(2);
      d.reduce("dot", slots, slot, 0.5, rows, b);
      outer(-1);
      d.launch("mask_rows_acc", n, { g: grad!, t: b, m: mask, c, hw });
    },
  };
}

/** w/c² · ‖G − A‖² with G = FᵀF/(hw·c), through the mask's rows for a masked Gram. */
function gramTerm(
  owned: Owned,
  term: Extract<LossTerm, { kind: "gram" | "masked-gram" }>,
): DeviceTerm {
  const d = owned.device;
  const { height: h, width: w, channels: c } = term.shape;
  const hw = h * w;
  const target = owned.upload(term.gram);
  const gram = owned.scratch(c * c);
  const factor = owned.scratch(c * c);
  const mask = term.kind === "masked-gram" ? owned.upload(term.mask) : undefined;
  const masked = mask ? owned.scratch(c * hw) : undefined;
  const product = mask ? owned.scratch(c * hw) : undefined;
  const norm = 1 / (hw * c);
  const gemm = layerGemm(d);
  return {
    layer: term.layer,
    group: "style",
    slots: 1,
    dispose: owned.dispose,
    lossAndGrad(f, grad, slots, slot) {
      const features = mask ? masked! : f;
      if (mask) d.launch("mask_rows", c * hw, { f, m: mask, out: masked!, c, hw });
      // G = norm · Fᵀ F, c × c.
      gemm(true, false, [c, c, hw], norm, features, features, 0, gram);
      d.reduce("sqdiff", slots, slot, term.weight / (c * c), gram, target);
      d.launch("gram_diff", c * c, {
        gram,
        target,
        d: factor,
        c,
        coef: 4 * term.weight * norm / (c * c),
      });
      // dL/dF = F · D (D symmetric): straight into the layer's gradient, or through the mask.
      const into = mask ? product! : grad!;
      gemm(false, false, [hw, c, c], 1, features, factor, mask ? 0 : 1, into);
      if (mask) d.launch("mask_rows_acc", c * hw, { g: grad!, t: product!, m: mask, c, hw });
    },
  };
}

/** w/c² · ‖Σ − S‖² + wλ/c · ‖μ − m‖², μ = Fᵀ1/hw, Σ = RᵀR/(hw·c) with R = F − 1μᵀ. */
function meanCovarianceTerm(
  owned: Owned,
  term: Extract<LossTerm, { kind: "mean-covariance" }>,
): DeviceTerm {
  const d = owned.device;
  const { height: h, width: w, channels: c } = term.shape;
  const hw = h * w;
  const covTarget = owned.upload(term.covariance);
  const meanTarget = owned.upload(term.mean);
  const ones = owned.upload(new Float32Array(hw).fill(1));
  const mean = owned.scratch(c);
  const meanDiff = owned.scratch(c);
  const centred = owned.scratch(c * hw);
  const covariance = owned.scratch(c * c);
  const factor = owned.scratch(c * c);
  const meanWeight = term.weight * term.meanWeight;
  const gemm = layerGemm(d);
  return {
    layer: term.layer,
    group: "style",
    slots: 2,
    dispose: owned.dispose,
    lossAndGrad(f, grad, slots, slot) {
      gemm(true, false, [c, 1, hw], 1 / hw, f, ones, 0, mean); // μ
      d.copy(centred, f);
      gemm(false, true, [hw, c, 1], -1, ones, mean, 1, centred); // R = F − 1μᵀ
      gemm(true, false, [c, c, hw], 1 / (hw * c), centred, centred, 0, covariance); // Σ
      d.reduce("sqdiff", slots, slot, term.weight / (c * c), covariance, covTarget);
      d.reduce("sqdiff", slots, slot + 1, meanWeight / c, mean, meanTarget);
      // dL/dF = R · 4w(Σ − S)/(hw·c³) + 1 · 2wλ(μ − m)ᵀ/(hw·c) (R's zero column sums drop
      // the centring's own term, as in onnx/backward.ts).
      d.launch("gram_diff", c * c, {
        gram: covariance,
        target: covTarget,
        d: factor,
        c,
        coef: 4 * term.weight / (hw * c * c * c),
      });
      gemm(false, false, [hw, c, c], 1, centred, factor, 1, grad!);
      d.launch("v_sub", c, { n: c, x: mean, y: meanTarget, out: meanDiff });
      gemm(false, true, [hw, c, 1], 2 * meanWeight / (hw * c), ones, meanDiff, 1, grad!);
    },
  };
}

/** w · TV(x); its gradient is added where the image gradient is assembled (image_grad). */
function tvTerm(
  owned: Owned,
  term: Extract<LossTerm, { kind: "tv" }>,
  height: number,
  width: number,
): DeviceTerm {
  const d = owned.device;
  return {
    layer: undefined,
    group: "tv",
    slots: 1,
    dispose: owned.dispose,
    lossAndGrad(x, _grad, slots, slot) {
      d.reduce("tv", slots, slot, term.weight, x, undefined, [height, width]);
    },
  };
}
