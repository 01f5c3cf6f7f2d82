/**
 * gpu-smoke's fixed inputs: every kernel on odd-sized random data (each buffer and scalar by the
 * kernel's parameter names), the GEMM shapes the engine uses and VGG19's conv shapes.
 */
import type { ConvShape } from "../neural/engines/cuda/conv_algorithms.ts";
import type { KernelName } from "../neural/engines/cuda/kernels.ts";
import { REDUCE_BLOCKS } from "../neural/engines/cuda/kernels.ts";

/** A buffer argument: float32 values uniform in [lo, hi), or float64 values. */
export type BufferSpec =
  | { readonly f32: number; readonly lo?: number; readonly hi?: number }
  | { readonly f64: number };

/** One kernel launch: its grid (n or blocks) and each parameter's buffer or value. */
export interface KernelCase {
  readonly kernel: KernelName;
  readonly label: string;
  readonly n: number;
  readonly blocks?: number;
  readonly args: Readonly<Record<string, number | BufferSpec>>;
  /** Buffers compared by their sum (first-pass partial sums: laid out differently on the host). */
  readonly sums?: readonly string[];
}

const C = 5, H = 13, W = 11, HW = H * W, N = C * HW, PADDED = C * (H + 2) * (W + 2);
const POOLED = C * Math.floor(H / 2) * Math.floor(W / 2);
const f = (length: number, lo = -1, hi = 1): BufferSpec => ({ f32: length, lo, hi });
const d = (length: number): BufferSpec => ({ f64: length });

/** Every kernel at least once (pad and pool in both modes); sizes odd, none a multiple of a block. */
export const KERNEL_CASES: readonly KernelCase[] = [
  {
    kernel: "preprocess",
    label: "",
    n: HW,
    args: {
      x: f(3 * HW, 0, 255),
      out: f(3 * HW),
      hw: HW,
      mean_b: 103.9,
      mean_g: 116.8,
      mean_r: 123.7,
    },
  },
  {
    kernel: "image_grad",
    label: "",
    n: 3 * HW,
    args: { g: f(3 * HW), x: f(3 * HW, 0, 255), out: f(3 * HW), h: H, w: W, tv_weight: 0.01 },
  },
  ...[0, 1].flatMap((reflect): KernelCase[] => [
    {
      kernel: "pad_forward" as const,
      label: reflect ? "reflect" : "replicate",
      n: PADDED,
      args: { in: f(N), out: f(PADDED), c: C, H, W, reflect },
    },
    {
      kernel: "pad_backward" as const,
      label: reflect ? "reflect" : "replicate",
      n: N,
      args: { gout: f(PADDED), gin: f(N), c: C, H, W, reflect },
    },
  ]),
  { kernel: "add_bias", label: "", n: N, args: { y: f(N), bias: f(C), c: C, hw: HW } },
  { kernel: "relu", label: "", n: N, args: { in: f(N), out: f(N), n: N } },
  { kernel: "relu_grad", label: "", n: N, args: { g: f(N), y: f(N), n: N } },
  ...[0, 1].flatMap((isMax): KernelCase[] => [
    {
      kernel: "pool_forward" as const,
      label: isMax ? "max" : "avg",
      n: POOLED,
      args: { in: f(N), out: f(POOLED), c: C, H, W, is_max: isMax },
    },
    {
      kernel: "pool_backward" as const,
      label: isMax ? "max" : "avg",
      n: N,
      args: { gout: f(POOLED), in: f(N), gin: f(N), c: C, H, W, is_max: isMax },
    },
  ]),
  ...(["partial_dot", "partial_sqdiff"] as const).map((kernel): KernelCase => ({
    kernel,
    label: "",
    n: 0,
    blocks: REDUCE_BLOCKS,
    args: { a: f(N), b: f(N), n: N, partial: d(REDUCE_BLOCKS) },
    sums: ["partial"],
  })),
  {
    kernel: "partial_tv",
    label: "",
    n: 0,
    blocks: REDUCE_BLOCKS,
    args: { x: f(3 * HW, 0, 255), h: H, w: W, partial: d(REDUCE_BLOCKS) },
    sums: ["partial"],
  },
  {
    kernel: "reduce_final",
    label: "",
    n: 0,
    blocks: 1,
    args: { partial: d(REDUCE_BLOCKS), count: REDUCE_BLOCKS, out: d(7), slot: 3, scale: 0.5 },
  },
  {
    kernel: "content_grad",
    label: "",
    n: N,
    args: { g: f(N), f: f(N), p: f(N), n: N, coef: 0.37 },
  },
  {
    kernel: "gram_diff",
    label: "",
    n: C * C,
    args: { gram: f(C * C), target: f(C * C), d: f(C * C), c: C, coef: 0.7 },
  },
  {
    kernel: "mask_rows",
    label: "",
    n: N,
    args: { f: f(N), m: f(HW, 0, 1), out: f(N), c: C, hw: HW },
  },
  {
    kernel: "mask_rows_acc",
    label: "",
    n: N,
    args: { g: f(N), t: f(N), m: f(HW, 0, 1), c: C, hw: HW },
  },
  { kernel: "v_axpy", label: "", n: N, args: { n: N, a: 0.37, x: f(N), y: f(N), out: f(N) } },
  { kernel: "v_scale", label: "", n: N, args: { n: N, a: -2.5, x: f(N), out: f(N) } },
  { kernel: "v_sub", label: "", n: N, args: { n: N, x: f(N), y: f(N), out: f(N) } },
  { kernel: "v_mul", label: "", n: N, args: { n: N, x: f(N), y: f(N), out: f(N) } },
  { kernel: "v_sqrt", label: "", n: N, args: { n: N, x: f(N, 0, 4), out: f(N) } },
  {
    kernel: "v_div",
    label: "",
    n: N,
    args: { n: N, x: f(N), y: f(N, 0.5, 2), eps: 1e-3, out: f(N) },
  },
  {
    kernel: "v_clamp",
    label: "",
    n: N,
    args: { n: N, x: f(N), lo: -0.5, hi: 0.25, out: f(N) },
  },
  {
    kernel: "lbfgs_step",
    label: "",
    n: 0,
    blocks: REDUCE_BLOCKS,
    args: {
      n: N,
      pin: d(REDUCE_BLOCKS),
      count: REDUCE_BLOCKS,
      rho: 0.8,
      slots: d(4),
      slot: 1,
      sa: -1,
      ib: 0,
      sb: 1,
      x: f(N),
      q: f(N),
      next: f(N),
      pout: d(REDUCE_BLOCKS),
    },
    sums: ["pout"],
  },
];

/** A style layer's features as the GEMMs see them: c channels of hw pixels. */
export interface GemmLayer {
  readonly layer: string;
  readonly c: number;
  readonly hw: number;
}

/** VGG19's style layers at an image of `height × width` (pooling halves, odd edges dropped). */
export function styleLayers(height: number, width: number): GemmLayer[] {
  const out: GemmLayer[] = [];
  let [h, w] = [height, width];
  for (
    const [layer, c] of [["relu1_1", 64], ["relu2_1", 128], ["relu3_1", 256], ["relu4_1", 512], [
      "relu5_1",
      512,
    ]] as const
  ) {
    out.push({ layer, c, hw: h * w });
    [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
  }
  return out;
}

/** VGG19's distinct conv shapes at `size`² (cuDNN pads with zeros). */
export function vggConvShapes(size: number): { name: string; shape: ConvShape }[] {
  const convs: [string, number, number, number][] = [
    ["conv1_1", 3, 64, 1],
    ["conv1_2", 64, 64, 1],
    ["conv2_1", 64, 128, 2],
    ["conv2_2", 128, 128, 2],
    ["conv3_1", 128, 256, 4],
    ["conv3_2", 256, 256, 4],
    ["conv4_1", 256, 512, 8],
    ["conv4_2", 512, 512, 8],
    ["conv5_1", 512, 512, 16],
  ];
  return convs.map(([name, inChannels, outChannels, scale]) => ({
    name,
    shape: {
      inChannels,
      outChannels,
      height: Math.floor(size / scale),
      width: Math.floor(size / scale),
      pad: 1,
    },
  }));
}
