/**
 * Time and memory of a style-transfer run at a given size, per engine, from measured figures
 * (for `plan`). The model: one evaluation (forward + input gradient) costs the convolution FLOPs
 * of VGG19 up to relu5_1 (the paper's deepest layer; an upper bound for recipes using fewer
 * layers); memory is a fixed engine overhead plus, per input pixel, the activations kept for the
 * backward pass and the optimizer's image-sized vectors.
 */
import { convFor, convLayers } from "../neural/models/layers.ts";
import type { Estimate } from "./stage.ts";

/** Measured throughput and memory of one engine. */
interface EngineFigures {
  /** Effective convolution GFLOP/s of a forward + backward evaluation. */
  readonly gflops: number;
  /** Resident bytes per activation float kept (activations, their gradients, engine buffers). */
  readonly bytesPerActivation: number;
  /** Resident bytes independent of the image size (runtime, weights, graph). */
  readonly baseBytes: number;
}

/**
 * Measured with real VGG19 weights (conv1_1…conv3_2, relu3_2 content + relu1_1/2_1/3_1 style),
 * seeded 128² and 256² images, median of 5 evaluations after 2 warm-up ones, peak RSS, on the
 * project's 2-core x86-64 build machine while shared (load average ≈ 9, so conservative):
 *   onnx 128²: 525 ms, 293 MB; 256²: 2.68 s, 528 MB  → 15 GFLOP/s, 10.7 B/activation, 215 MB base
 *   wasm 128²: 3.53 s, 356 MB; 256²: 13.1 s, 840 MB  →  3 GFLOP/s, 22 B/activation, 195 MB base
 *   cpu   64²: 7.52 s, 254 MB                        → 0.32 GFLOP/s (memory as wasm, same tfjs)
 * GFLOP/s = the FLOPs counted by {@link perPixel} / the median time. Engines not measured here
 * (webgpu, tfjs-node, tfjs-node-gpu) use the tfjs cpu figures: an upper bound on time.
 */
const FIGURES: Record<string, EngineFigures> = {
  onnx: { gflops: 15, bytesPerActivation: 10.7, baseBytes: 215e6 },
  wasm: { gflops: 3, bytesPerActivation: 22, baseBytes: 195e6 },
  cpu: { gflops: 0.32, bytesPerActivation: 22, baseBytes: 195e6 },
};

/** The figures used for `engine` (`auto` on a machine without a GPU plugin is onnx). */
function figuresFor(engine: string): EngineFigures {
  if (engine === "auto") return FIGURES.onnx;
  return FIGURES[engine] ?? FIGURES.cpu;
}

/** Per input pixel: convolution FLOPs (forward + input gradient) and activation floats kept. */
function perPixel(deepest: string): { flops: number; activations: number } {
  const last = convFor("vgg19", deepest)!;
  let flops = 0;
  let activations = 0;
  for (const conv of convLayers("vgg19")) {
    const area = 1 / 4 ** (conv.block - 1); // pools are 2×2 stride 2
    flops += 2 * 2 * 9 * conv.inChannels * conv.outChannels * area;
    activations += 2 * conv.outChannels * area; // conv output and ReLU output
    if (conv.name === last.name) break;
  }
  return { flops, activations };
}

/** What a run at `width` × `height` does. */
export interface TransferWork {
  readonly width: number;
  readonly height: number;
  /** Loss-and-gradient evaluations. */
  readonly evaluations: number;
  /** Image-sized float vectors the optimizer keeps (L-BFGS: 2·history + 4, Adam: 4). */
  readonly optimizerVectors: number;
  /** Deepest layer used (default relu5_1, the paper's setting). */
  readonly deepest?: string;
}

/** Estimated peak memory and time of a transfer on `engine`. */
export function transferEstimate(engine: string, work: TransferWork): Estimate {
  const f = figuresFor(engine);
  const pixels = work.width * work.height;
  const { flops, activations } = perPixel(work.deepest ?? "relu5_1");
  const bytes = f.baseBytes +
    pixels * (activations * f.bytesPerActivation + work.optimizerVectors * 3 * 4);
  return { bytes, seconds: work.evaluations * flops * pixels / (f.gflops * 1e9) };
}
