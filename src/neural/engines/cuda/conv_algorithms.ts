/**
 * One 3×3 convolution's cuDNN state: its descriptors, cuDNN's ranked algorithm tables (forward
 * and backward-data, as many entries as cudnnGet*AlgorithmMaxCount says), the algorithm chosen and
 * the workspace cudnnGet*WorkspaceSize gives for it. The network uses it per conv step; gpu-smoke
 * prints the tables of every VGG conv shape.
 */
import type { CudaDevice } from "./device.ts";
import { outPointer } from "./ffi.ts";

/** `fp32`: IEEE float32 FMA everywhere; `tf32`: tensor cores with TF32 inputs (as PyTorch's default convs). */
export type CudaPrecision = "fp32" | "tf32";

/** cuDNN enum values used here. */
const DNN = {
  nchw: 0,
  float: 0,
  crossCorrelation: 1,
  defaultMath: 0,
  fmaMath: 3,
  deterministic: 1,
} as const;
/** cudnnConvolution*AlgoPerf_t: 48 bytes; algo @0, status @4, memory @16, determinism @24, mathType @28. */
const PERF_BYTES = 48;
/** Largest cuDNN workspace an algorithm may ask for. */
const MAX_WORKSPACE = 1 << 30;

/** One row of cuDNN's ranked algorithm table. */
export interface PerfEntry {
  readonly algo: number;
  readonly status: number;
  /** Workspace bytes the heuristic estimates. */
  readonly memory: number;
  readonly deterministic: boolean;
  readonly math: number;
}

/** The shape of one conv: `height × width` is its input as cuDNN reads it, `pad` cuDNN's padding. */
export interface ConvShape {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly height: number;
  readonly width: number;
  /** 1: cuDNN pads with zeros; 0: the input is padded already (reflect/replicate). */
  readonly pad: 0 | 1;
}

/** An algorithm table, the algorithm chosen from it and its workspace (cudnnGet*WorkspaceSize). */
export interface AlgorithmChoice {
  readonly table: readonly PerfEntry[];
  readonly algo: number;
  readonly math: number;
  readonly workspace: number;
}

/** A conv's descriptors and chosen algorithms. */
export class ConvDescriptors {
  readonly x: Deno.PointerValue;
  readonly y: Deno.PointerValue;
  readonly w: Deno.PointerValue;
  readonly forwardConv: Deno.PointerValue;
  readonly backwardConv: Deno.PointerValue;
  readonly forward: AlgorithmChoice;
  readonly backwardData: AlgorithmChoice;
  readonly #device: CudaDevice;
  readonly #destroy: (() => void)[] = [];

  /** @param what names the conv in errors (e.g. `conv1_1`) */
  constructor(device: CudaDevice, shape: ConvShape, precision: CudaPrecision, what: string) {
    this.#device = device;
    const d = device;
    const dnn = d.api.cudnn;
    try {
      const tensor = (c: number, h: number, w: number) => {
        const ptr = outPointer(
          (cell) => dnn.cudnnCreateTensorDescriptor(cell),
          d.check.dnn("cudnnCreateTensorDescriptor"),
        );
        this.#destroy.push(() => dnn.cudnnDestroyTensorDescriptor(ptr));
        d.check.dnn("cudnnSetTensor4dDescriptor")(
          dnn.cudnnSetTensor4dDescriptor(ptr, DNN.nchw, DNN.float, 1, c, h, w),
        );
        return ptr;
      };
      const { inChannels, outChannels, height, width, pad } = shape;
      this.x = tensor(inChannels, height, width);
      this.y = tensor(outChannels, height + 2 * pad - 2, width + 2 * pad - 2);
      const wDesc = outPointer(
        (cell) => dnn.cudnnCreateFilterDescriptor(cell),
        d.check.dnn("cudnnCreateFilterDescriptor"),
      );
      this.w = wDesc;
      this.#destroy.push(() => dnn.cudnnDestroyFilterDescriptor(wDesc));
      d.check.dnn("cudnnSetFilter4dDescriptor")(
        dnn.cudnnSetFilter4dDescriptor(wDesc, DNN.float, DNN.nchw, outChannels, inChannels, 3, 3),
      );
      const convDesc = () => {
        const ptr = outPointer(
          (cell) => dnn.cudnnCreateConvolutionDescriptor(cell),
          d.check.dnn("cudnnCreateConvolutionDescriptor"),
        );
        this.#destroy.push(() => dnn.cudnnDestroyConvolutionDescriptor(ptr));
        d.check.dnn("cudnnSetConvolution2dDescriptor")(
          dnn.cudnnSetConvolution2dDescriptor(ptr, pad, pad, 1, 1, 1, 1, DNN.crossCorrelation, 0),
        );
        d.check.dnn("cudnnSetConvolutionMathType")(
          dnn.cudnnSetConvolutionMathType(
            ptr,
            precision === "fp32" ? DNN.fmaMath : DNN.defaultMath,
          ),
        );
        return ptr;
      };
      this.forwardConv = convDesc();
      this.backwardConv = convDesc();
      const maxCount = (call: string, f: (cell: Int32Array<ArrayBuffer>) => number) => {
        const cell = new Int32Array(1);
        d.check.dnn(call)(f(cell));
        return Math.max(1, cell[0]);
      };
      const fwdCount = maxCount(
        "cudnnGetConvolutionForwardAlgorithmMaxCount",
        (c) => dnn.cudnnGetConvolutionForwardAlgorithmMaxCount(d.cudnn, c),
      );
      const fwdTable = this.#table(
        fwdCount,
        "cudnnGetConvolutionForwardAlgorithm_v7",
        (n, c, p) =>
          dnn.cudnnGetConvolutionForwardAlgorithm_v7(
            d.cudnn,
            this.x,
            wDesc,
            this.forwardConv,
            this.y,
            n,
            c,
            p,
          ),
      );
      this.forward = this.#choose(fwdTable, precision, `${what} forward`, this.forwardConv, (
        algo,
        cell,
      ) =>
        dnn.cudnnGetConvolutionForwardWorkspaceSize(
          d.cudnn,
          this.x,
          wDesc,
          this.forwardConv,
          this.y,
          algo,
          cell,
        ));
      const bwdCount = maxCount(
        "cudnnGetConvolutionBackwardDataAlgorithmMaxCount",
        (c) => dnn.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(d.cudnn, c),
      );
      const bwdTable = this.#table(
        bwdCount,
        "cudnnGetConvolutionBackwardDataAlgorithm_v7",
        (n, c, p) =>
          dnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(
            d.cudnn,
            wDesc,
            this.y,
            this.backwardConv,
            this.x,
            n,
            c,
            p,
          ),
      );
      this.backwardData = this.#choose(
        bwdTable,
        precision,
        `${what} backward-data`,
        this.backwardConv,
        (algo, cell) =>
          dnn.cudnnGetConvolutionBackwardDataWorkspaceSize(
            d.cudnn,
            wDesc,
            this.y,
            this.backwardConv,
            this.x,
            algo,
            cell,
          ),
      );
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** The larger of the two chosen algorithms' workspaces, in bytes. */
  get workspace(): number {
    return Math.max(this.forward.workspace, this.backwardData.workspace);
  }

  /** Destroys the descriptors. */
  dispose(): void {
    for (const destroy of this.#destroy.splice(0).reverse()) destroy();
  }

  #table(
    requested: number,
    call: string,
    get: (n: number, count: Int32Array<ArrayBuffer>, perf: Uint8Array<ArrayBuffer>) => number,
  ): PerfEntry[] {
    const perf = new Uint8Array(PERF_BYTES * requested);
    const count = new Int32Array(1);
    this.#device.check.dnn(call)(get(requested, count, perf));
    return readPerfTable(perf, Math.min(count[0], requested));
  }

  #choose(
    table: PerfEntry[],
    precision: CudaPrecision,
    what: string,
    desc: Deno.PointerValue,
    workspaceOf: (algo: number, cell: BigUint64Array<ArrayBuffer>) => number,
  ): AlgorithmChoice {
    const chosen = chooseAlgorithm(table, precision, what);
    const d = this.#device;
    d.check.dnn("cudnnSetConvolutionMathType")(
      d.api.cudnn.cudnnSetConvolutionMathType(desc, chosen.math),
    );
    const cell = new BigUint64Array(1);
    d.check.dnn(`cudnnGet*WorkspaceSize(${what}, algo ${chosen.algo})`)(
      workspaceOf(chosen.algo, cell),
    );
    return { table, algo: chosen.algo, math: chosen.math, workspace: Number(cell[0]) };
  }
}

/** The first `count` rows of a cudnnConvolution*AlgoPerf_t array. */
export function readPerfTable(perf: Uint8Array, count: number): PerfEntry[] {
  const view = new DataView(perf.buffer, perf.byteOffset, perf.byteLength);
  return Array.from({ length: count }, (_, k) => {
    const at = k * PERF_BYTES;
    return {
      algo: view.getInt32(at, true),
      status: view.getInt32(at + 4, true),
      memory: Number(view.getBigUint64(at + 16, true)),
      deterministic: view.getInt32(at + 24, true) === DNN.deterministic,
      math: view.getInt32(at + 28, true),
    };
  });
}

/** One table row as text (gpu-smoke, errors). */
export function describePerf(e: PerfEntry): string {
  return `algo ${e.algo} status ${e.status} det ${
    e.deterministic ? 1 : 0
  } math ${e.math} ws ${e.memory}`;
}

/**
 * The first of cuDNN's heuristic ranking that succeeded, is deterministic, fits the workspace and,
 * for fp32, uses FMA math (no TF32). The heuristic (not a timed search) makes the choice the same
 * on every run with the same GPU and library, so that the same recipe gives the same bytes.
 */
export function chooseAlgorithm(
  table: readonly PerfEntry[],
  precision: CudaPrecision,
  what: string,
): PerfEntry {
  const chosen = table.find((e) =>
    e.status === 0 && e.deterministic && e.memory <= MAX_WORKSPACE &&
    (precision !== "fp32" || e.math === DNN.fmaMath)
  );
  if (chosen) return chosen;
  throw new Error(
    `cuDNN offers no deterministic ${precision} algorithm for ${what} (${
      table.map(describePerf).join("; ")
    })`,
  );
}
