/**
 * Engine `onnx`: the plan's loss and gradient as one ONNX graph (graph.ts) run by ONNX Runtime's
 * CPU execution provider. Vectors live on the host as Float32Array.
 */
import type { VggWeights } from "../../models/weights_types.ts";
import { type LossPlan, lossPlan, planStructure } from "../../objective/terms.ts";
import { networkPlan, type Padding, planShape, type Pooling } from "../../plan/network.ts";
import type { Activation, ObjectiveSpec } from "../../objective/spec.ts";
import type {
  DisposableObjective,
  Engine,
  EngineProvider,
  Evaluation,
  LayerStatistics,
  StatisticsRequest,
} from "../engine.ts";
import { hostVectorOps } from "../host_vector_ops.ts";
import { checkEngineImage } from "../engine_image.ts";
import {
  buildExtractGraph,
  buildLossGraph,
  buildStatisticsGraph,
  GRAPH_IO,
  lossFeeds,
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
  /** Statistics sessions (tiled evaluation's first pass): run every step, one idle one kept. */
  readonly #statisticsSessions = new SessionCache(1, true);
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
    padding: Padding = "zero",
  ): Promise<Map<string, Activation>> {
    const { height, width, data } = image;
    checkEngineImage(data.length, height, width);
    const unique = [...new Set(layers)];
    const plan = networkPlan(weights, pooling, height, width, unique, padding);
    const key = `extract|${weights.id}|${pooling}|${padding}|${height}x${width}|${
      unique.join(",")
    }`;
    const lease = await this.#extractSessions.acquire(
      key,
      () => buildExtractGraph(weights, plan, unique),
    );
    try {
      const x = new this.ort.Tensor("float32", data, [height, width, 3]);
      const out = await lease.session.run({ [GRAPH_IO.image]: x });
      const result = new Map<string, Activation>();
      for (const layer of unique) {
        const { height: h, width: w, channels } = planShape(plan, layer);
        const values = (out[GRAPH_IO.activations(layer)].data as Float32Array).slice();
        result.set(layer, { height: h, width: w, channels, data: values });
      }
      return result;
    } finally {
      lease.release();
    }
  }

  async statistics(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    requests: readonly StatisticsRequest[],
    padding: Padding = "zero",
  ): Promise<LayerStatistics[]> {
    const { height, width, data } = image;
    checkEngineImage(data.length, height, width);
    const layers = requests.map((r) => r.layer);
    const plan = networkPlan(weights, pooling, height, width, [...new Set(layers)], padding);
    const key = `statistics|${weights.id}|${pooling}|${padding}|${height}x${width}|${
      layers.join(",")
    }`;
    const lease = await this.#statisticsSessions.acquire(
      key,
      () => buildStatisticsGraph(weights, plan, layers),
    );
    try {
      const T = this.ort.Tensor;
      const feeds: Feeds = { [GRAPH_IO.image]: new T("float32", data, [height, width, 3]) };
      requests.forEach((r, i) => {
        const { height: h, width: w } = planShape(plan, r.layer);
        feeds[GRAPH_IO.statisticsMask(i)] = new T("float32", r.mask, [1, 1, h, w]);
      });
      const out = await lease.session.run(feeds);
      return requests.map((_, i) => ({
        gram: (out[GRAPH_IO.statisticsGram(i)].data as Float32Array).slice(),
        sum: (out[GRAPH_IO.statisticsSum(i)].data as Float32Array).slice(),
      }));
    } finally {
      lease.release();
    }
  }

  objective(spec: ObjectiveSpec): Promise<DisposableObjective<Float32Array>> {
    return this.planObjective(spec.weights, lossPlan(spec));
  }

  async planObjective(
    weights: VggWeights,
    plan: LossPlan,
  ): Promise<DisposableObjective<Float32Array>> {
    const { height, width } = plan.network.input;
    const T = this.ort.Tensor;
    const feeds: Feeds = {};
    for (const [name, feed] of lossFeeds(plan)) {
      feeds[name] = new T("float32", feed.data, feed.dims);
    }
    const key = `loss|${planStructure(plan, weights.id)}`;
    const lease = await this.#lossSessions.acquire(key, () => buildLossGraph(weights, plan));
    const ort = this.ort;
    return {
      async evaluate(x: Float32Array): Promise<Evaluation<Float32Array>> {
        checkEngineImage(x.length, height, width);
        const image = new ort.Tensor("float32", x, [height, width, 3]);
        const out = await lease.session.run({ ...feeds, [GRAPH_IO.image]: image });
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

  async dispose(): Promise<void> {
    await this.#extractSessions.clear();
    await this.#statisticsSessions.clear();
    await this.#lossSessions.clear();
  }
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
