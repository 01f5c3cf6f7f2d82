/**
 * A generic {@link Engine} over any tfjs backend (cpu, wasm, webgpu, tensorflow = tfjs-node(-gpu)).
 * Vectors are flat float32 tensors of length H·W·3 (the HWC RGB 0–255 image). An evaluation runs the
 * plan's VGG forward (vgg.ts), each term of the loss table (objective/terms.ts) as a loss_*.ts op,
 * and the backward pass (tf.valueAndGrad) inside tf.tidy; only the three weighted groups come back
 * to the host, the gradient stays a tensor.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
// tfjs-core's Node bundle registers no gradient functions; the union package's bundle registers all
// of them (Conv2D, MaxPool, AvgPool, BatchMatMul, …) with the same tfjs-core instance.
import "npm:@tensorflow/tfjs@4.22.0";
import type { Activation, ObjectiveSpec } from "../../objective/spec.ts";
import type {
  DisposableObjective,
  Engine,
  EngineProvider,
  Evaluation,
  LayerStatistics,
  StatisticsRequest,
  VectorOps,
} from "../engine.ts";
import { type LayerShape, networkPlan, type Padding, type Pooling } from "../../plan/network.ts";
import type { VggWeights } from "../../models/weights_types.ts";
import { contentLoss } from "./loss_content.ts";
import { checkEngineImage } from "../engine_image.ts";
import { styleLoss } from "./loss_gram.ts";
import { meanCovarianceLoss } from "./loss_mean_covariance.ts";
import { totalVariation } from "./loss_tv.ts";
import {
  groupTerms,
  layersRead,
  type LossPlan,
  lossPlan,
  type LossTerm,
} from "../../objective/terms.ts";
import type { ConvInputGrad } from "./conv.ts";
import { disposeVgg, uploadVgg, vggForward } from "./vgg.ts";
import { tfjsVectorOps } from "./vector_ops.ts";

/** How a tfjs engine is set up: which registered backend it runs on and how convs differentiate. */
export interface TfjsEngineOptions {
  /** Engine name as in recipes (`cpu`, `wasm`, …). */
  readonly name: string;
  /** tfjs backend name (`cpu`, `wasm`, `webgpu`, `tensorflow`); must be registered and initialized. */
  readonly backend: string;
  /** Provenance text, e.g. the adapter in use. */
  readonly description: string;
  /** Conv input-gradient implementation (see conv.ts). */
  readonly convInputGrad: ConvInputGrad;
}

/** A provider whose engines are {@link TfjsEngine}s (vectors are tf tensors). */
export interface TfjsEngineProvider extends EngineProvider {
  /** Creates the engine (throws EngineUnavailableError). */
  create(): Promise<TfjsEngine>;
}

/** Makes `backend` the active tfjs backend. It must already be initialized (then this is synchronous). */
export function activateBackend(backend: string): void {
  if (tf.getBackend() === backend) return;
  // tf.setBackend only awaits when it must initialize the backend; the engine's provider did that
  // at creation, so the switch below has completed when the call returns.
  void tf.setBackend(backend);
  if (tf.getBackend() !== backend) throw new Error(`tfjs backend ${backend} is not initialized`);
}

/** One loss term in tf: its targets uploaded once, and its unweighted value. */
interface TfTerm {
  value(features: ReadonlyMap<string, tf.Tensor3D>, image: tf.Tensor3D): tf.Scalar;
  dispose(): void;
}

/** A tfjs-backed engine; see the module doc. */
export class TfjsEngine implements Engine<tf.Tensor> {
  readonly name: string;
  readonly vec: VectorOps<tf.Tensor>;
  readonly #options: TfjsEngineOptions;
  readonly #live = new Set<DisposableObjective<tf.Tensor>>();

  /** @param options backend and naming; the backend must be registered and initialized */
  constructor(options: TfjsEngineOptions) {
    this.name = options.name;
    this.#options = options;
    this.vec = tfjsVectorOps(() => this.activate());
  }

  /** Makes this engine's backend the active one. */
  activate(): void {
    activateBackend(this.#options.backend);
  }

  /** Names the backend (and device) in use. */
  describe(): string {
    return this.#options.description;
  }

  /** Forward pass only; returns host copies of the activations. */
  async extract(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    layers: readonly string[],
    padding: Padding = "zero",
  ): Promise<Map<string, Activation>> {
    this.activate();
    checkEngineImage(image.data.length, image.height, image.width);
    const plan = networkPlan(weights, pooling, image.height, image.width, layers, padding);
    const net = uploadVgg(weights, plan);
    try {
      // tf.tidy keeps tensors returned in plain objects (not in Maps).
      const outputs: Record<string, tf.Tensor3D> = tf.tidy(() => {
        const x = tf.tensor3d(image.data, [image.height, image.width, 3]);
        return Object.fromEntries(vggForward(net, x, layers));
      });
      const result = new Map<string, Activation>();
      for (const [layer, t] of Object.entries(outputs)) {
        const [height, width, channels] = t.shape;
        result.set(layer, {
          height,
          width,
          channels,
          data: Float32Array.from(await t.data() as Float32Array),
        });
        t.dispose();
      }
      return result;
    } finally {
      disposeVgg(net);
    }
  }

  /** Masked Gram and feature sums of the requested layers (forward only). */
  async statistics(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    requests: readonly StatisticsRequest[],
    padding: Padding = "zero",
  ): Promise<LayerStatistics[]> {
    this.activate();
    checkEngineImage(image.data.length, image.height, image.width);
    const layers = [...new Set(requests.map((r) => r.layer))];
    const plan = networkPlan(weights, pooling, image.height, image.width, layers, padding);
    const net = uploadVgg(weights, plan);
    try {
      const sums = tf.tidy(() => {
        const x = tf.tensor3d(image.data, [image.height, image.width, 3]);
        const features = vggForward(net, x, layers);
        return requests.map((r) => {
          const f = features.get(r.layer)!;
          const [height, width] = f.shape;
          const rows = maskedRows(f, maskTensor(r.mask, { height, width, channels: 1 }));
          return { gram: tf.matMul(rows, rows, true, false), sum: tf.sum(rows, 0) };
        });
      });
      const out: LayerStatistics[] = [];
      for (const { gram, sum } of sums) {
        out.push({
          gram: Float32Array.from(await gram.data() as Float32Array),
          sum: Float32Array.from(await sum.data() as Float32Array),
        });
        gram.dispose();
        sum.dispose();
      }
      return out;
    } finally {
      disposeVgg(net);
    }
  }

  /** Builds f and ∇f; the network and targets are uploaded once and freed by `dispose()`. */
  objective(spec: ObjectiveSpec): Promise<DisposableObjective<tf.Tensor>> {
    return this.planObjective(spec.weights, lossPlan(spec));
  }

  /** f and ∇f of a loss table (see {@link objective}). */
  planObjective(weights: VggWeights, plan: LossPlan): Promise<DisposableObjective<tf.Tensor>> {
    this.activate();
    const { height, width } = plan.network.input;
    const layers = layersRead(plan.terms);
    const net = uploadVgg(weights, plan.network, this.#options.convInputGrad);
    const tfTerms = new Map(plan.terms.map((t) => [t, tfTerm(t)]));
    const terms = (x: tf.Tensor): tf.Tensor1D => {
      const image = tf.reshape(x, [height, width, 3]) as tf.Tensor3D;
      const features = vggForward(net, image, layers);
      const groups = groupTerms(
        plan.terms,
        (t) => tf.mul(tfTerms.get(t)!.value(features, image), t.weight),
        (values) => tf.addN(values),
        () => tf.scalar(0),
      );
      return tf.stack([groups.content, groups.style, groups.tv]) as tf.Tensor1D;
    };
    // The gradient of Σ terms (dy = ones) is ∇loss; the terms vector is the value.
    const valueAndGrad = tf.valueAndGrad(terms);
    const expected = height * width * 3;
    const live = this.#live;
    const objective: DisposableObjective<tf.Tensor> = {
      evaluate: async (x: tf.Tensor): Promise<Evaluation<tf.Tensor>> => {
        this.activate();
        if (x.size !== expected) {
          throw new RangeError(`x has ${x.size} values, expected ${height}×${width}×3`);
        }
        const { value, grad } = tf.tidy(() => valueAndGrad(x));
        let values: Float32Array;
        try {
          values = await value.data() as Float32Array;
        } finally {
          value.dispose();
        }
        const [content, style, tv] = values;
        return { loss: content + style + tv, grad, terms: { content, style, tv } };
      },
      dispose: () => {
        if (!live.delete(objective)) return;
        disposeVgg(net);
        for (const t of tfTerms.values()) t.dispose();
      },
    };
    live.add(objective);
    return Promise.resolve(objective);
  }

  /** Disposes the objectives still alive (the backend itself stays registered for reuse). */
  dispose(): Promise<void> {
    for (const objective of [...this.#live]) objective.dispose();
    return Promise.resolve();
  }
}

/** M F as an (H·W) × C matrix: each pixel's features times its mask value (mask [H, W, 1]). */
function maskedRows(features: tf.Tensor3D, mask: tf.Tensor3D): tf.Tensor2D {
  const [h, w, c] = features.shape;
  return tf.reshape(tf.mul(features, mask), [h * w, c]) as tf.Tensor2D;
}

/** A mask of H × W values as an [H, W, 1] tensor (broadcast over channels). */
function maskTensor(mask: Float32Array, shape: LayerShape): tf.Tensor3D {
  return tf.tensor3d(mask, [shape.height, shape.width, 1]);
}

/** The tf implementation of one term of the loss table (definitions in objective/). */
function tfTerm(term: LossTerm): TfTerm {
  const hwc = (s: LayerShape): [number, number, number] => [s.height, s.width, s.channels];
  switch (term.kind) {
    case "content": {
      const target = tf.tensor3d(term.target, hwc(term.shape));
      const mask = term.mask && maskTensor(term.mask, term.shape);
      return {
        value: (features) => contentLoss(features.get(term.layer)!, target, mask),
        dispose: () => {
          target.dispose();
          mask?.dispose();
        },
      };
    }
    case "linear": {
      const c = term.shape.channels;
      const gram = tf.tensor2d(term.gram, [c, c]);
      const sum = tf.tensor1d(term.sum);
      const mask = maskTensor(term.mask, term.shape);
      return {
        value: (features) =>
          tf.tidy(() => {
            const rows = maskedRows(features.get(term.layer)!, mask);
            const s = tf.matMul(rows, rows, true, false);
            return tf.add(tf.sum(tf.mul(s, gram)), tf.sum(tf.mul(tf.sum(rows, 0), sum)));
          }),
        dispose: () => {
          gram.dispose();
          sum.dispose();
          mask.dispose();
        },
      };
    }
    case "gram":
    case "masked-gram": {
      const c = term.shape.channels;
      const gram = tf.tensor2d(term.gram, [c, c]);
      const mask = term.kind === "masked-gram"
        ? tf.tensor2d(term.mask, [term.shape.height, term.shape.width])
        : undefined;
      return {
        value: (features) => styleLoss(features.get(term.layer)!, gram, mask),
        dispose: () => {
          gram.dispose();
          mask?.dispose();
        },
      };
    }
    case "mean-covariance": {
      const c = term.shape.channels;
      const covariance = tf.tensor2d(term.covariance, [c, c]);
      const mean = tf.tensor1d(term.mean);
      return {
        value: (features) =>
          meanCovarianceLoss(features.get(term.layer)!, covariance, mean, term.meanWeight),
        dispose: () => {
          covariance.dispose();
          mean.dispose();
        },
      };
    }
    case "tv":
      return {
        value: (_, image) => (term.weight === 0 ? tf.scalar(0) : totalVariation(image)),
        dispose: () => {},
      };
  }
}
