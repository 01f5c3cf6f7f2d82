/**
 * Engine `onnx`: VGG loss and gradient as one ONNX graph (graph.ts) run by ONNX Runtime's CPU
 * execution provider. Vectors live on the host as Float32Array.
 */
import { resizeMaskArea } from "../../models/layer_mask.ts";
import type { VggWeights } from "../../models/weights_types.ts";
import type {
  Activation,
  DisposableObjective,
  Engine,
  EngineProvider,
  Evaluation,
  ObjectiveSpec,
  Pooling,
} from "../engine.ts";
import { hostVectorOps } from "../host_vector_ops.ts";
import {
  buildExtractGraph,
  buildLossGraph,
  layerShape,
  LOSS_IO,
  type LossGraphSpec,
} from "./graph.ts";
import { intraOpThreads, loadOrt, type OrtModule, SessionCache } from "./runtime.ts";

type Feeds = Record<string, InstanceType<OrtModule["Tensor"]>>;

/** The onnx engine over a loaded onnxruntime-node. */
export class OnnxEngine implements Engine<Float32Array> {
  readonly name = "onnx";
  readonly vec = hostVectorOps;
  /**
   * Forward-only sessions run once per image: released after use (each holds a copy of the
   * network, and at 512² the loss session needs that memory).
   */
  readonly #extractSessions = new SessionCache(0, false);
  /** Loss sessions: run every optimizer step; one idle one kept (hundreds of MB at 512²). */
  readonly #lossSessions = new SessionCache(1, true);

  /** @param ort the loaded onnxruntime-node module */
  constructor(readonly ort: OrtModule) {}

  describe(): string {
    return `onnxruntime-node ${this.ort.env.versions.node} (CPU EP, ${intraOpThreads()} threads)`;
  }

  async extract(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    layers: readonly string[],
  ): Promise<Map<string, Activation>> {
    const { height, width, data } = image;
    checkImage(data, height, width);
    const unique = [...new Set(layers)];
    const shapes = unique.map((l) => layerShape(weights, l, height, width));
    const key = `extract|${weights.id}|${pooling}|${height}x${width}|${unique.join(",")}`;
    const lease = await this.#extractSessions.acquire(
      key,
      () => buildExtractGraph(weights, pooling, height, width, unique),
    );
    try {
      const x = new this.ort.Tensor("float32", data, [height, width, 3]);
      const out = await lease.session.run({ [LOSS_IO.image]: x });
      const result = new Map<string, Activation>();
      unique.forEach((layer, i) => {
        const [channels, h, w] = shapes[i];
        const values = (out[layer].data as Float32Array).slice();
        result.set(layer, { height: h, width: w, channels, data: values });
      });
      return result;
    } finally {
      lease.release();
    }
  }

  async objective(spec: ObjectiveSpec): Promise<DisposableObjective<Float32Array>> {
    const { weights, height, width } = spec;
    const graph: LossGraphSpec = {
      weights,
      pooling: spec.pooling,
      height,
      width,
      contentLayers: spec.content.map((c) => c.layer),
      styleLayers: spec.style.map((s) => ({ layer: s.layer, masked: s.mask !== undefined })),
    };
    const feeds = this.#targetFeeds(spec);
    const key = [
      "loss",
      weights.id,
      spec.pooling,
      `${height}x${width}`,
      graph.contentLayers.join(","),
      graph.styleLayers.map((s) => `${s.layer}${s.masked ? "*" : ""}`).join(","),
    ].join("|");
    const lease = await this.#lossSessions.acquire(key, () => buildLossGraph(graph));
    const ort = this.ort;
    return {
      async evaluate(x: Float32Array): Promise<Evaluation<Float32Array>> {
        checkImage(x, height, width);
        const image = new ort.Tensor("float32", x, [height, width, 3]);
        const out = await lease.session.run({ ...feeds, [LOSS_IO.image]: image });
        const scalar = (name: string) => (out[name].data as Float32Array)[0];
        return {
          loss: scalar("loss"),
          grad: (out.grad.data as Float32Array).slice(),
          terms: { content: scalar("content"), style: scalar("style"), tv: scalar("tv") },
        };
      },
      dispose: () => lease.release(),
    };
  }

  /** Targets, masks and term weights as input tensors (content targets HWC → NCHW once here). */
  #targetFeeds(spec: ObjectiveSpec): Feeds {
    const { weights, height, width } = spec;
    const T = this.ort.Tensor;
    const feeds: Feeds = {
      [LOSS_IO.tvScale]: new T("float32", new Float32Array([spec.tvWeight]), []),
    };
    spec.content.forEach((c, i) => {
      const [ch, h, w] = layerShape(weights, c.layer, height, width);
      if (c.activations.length !== ch * h * w) {
        throw new RangeError(
          `content target ${c.layer} has ${c.activations.length} values, expected ${h}×${w}×${ch}`,
        );
      }
      feeds[LOSS_IO.contentTarget(i)] = new T("float32", hwcToChw(c.activations, h, w, ch), [
        1,
        ch,
        h,
        w,
      ]);
      feeds[LOSS_IO.contentScale(i)] = scalar(T, spec.contentWeight * c.weight);
    });
    spec.style.forEach((s, i) => {
      const [ch, h, w] = layerShape(weights, s.layer, height, width);
      if (s.gram.length !== ch * ch) {
        throw new RangeError(
          `style target ${s.layer} Gram has ${s.gram.length} values, expected ${ch}²`,
        );
      }
      feeds[LOSS_IO.styleGram(i)] = new T("float32", s.gram, [ch, ch]);
      feeds[LOSS_IO.styleScale(i)] = scalar(T, spec.styleWeight * s.weight);
      if (s.mask) {
        const m = resizeMaskArea(s.mask, height, width, h, w);
        feeds[LOSS_IO.styleMask(i)] = new T("float32", m, [1, 1, h, w]);
      }
    });
    return feeds;
  }

  async dispose(): Promise<void> {
    await this.#extractSessions.clear();
    await this.#lossSessions.clear();
  }
}

function scalar(T: OrtModule["Tensor"], v: number) {
  return new T("float32", new Float32Array([v]), []);
}

function checkImage(x: Float32Array, height: number, width: number): void {
  if (x.length !== height * width * 3) {
    throw new RangeError(`image has ${x.length} values, expected ${height}×${width}×3`);
  }
}

function hwcToChw(a: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) out[k * h * w + p] = a[p * c + k];
  }
  return out;
}

/** How the registry finds and creates the onnx engine. */
export const onnxProvider: EngineProvider = {
  name: "onnx",
  async available(): Promise<boolean> {
    try {
      const ort = await loadOrt();
      return ort.listSupportedBackends().some((b) => b.name === "cpu");
    } catch {
      return false;
    }
  },
  async create(): Promise<Engine> {
    return new OnnxEngine(await loadOrt()) as Engine;
  },
};
