/**
 * A generic {@link Engine} over any tfjs backend (cpu, wasm, webgpu, tensorflow = tfjs-node(-gpu)).
 * Vectors are flat float32 tensors of length H·W·3 (the HWC RGB 0–255 image). An evaluation runs the
 * VGG forward, the three loss terms (losses/*.ts) and the backward pass inside tf.tidy; only the
 * three weighted terms come back to the host, the gradient stays a tensor.
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's Node bundle registers no gradient functions; the union package's bundle registers all
// of them (Conv2D, MaxPool, AvgPool, BatchMatMul, …) with the same tfjs-core instance.
import "@tensorflow/tfjs";
import type {
  Activation,
  DisposableObjective,
  Engine,
  EngineProvider,
  Evaluation,
  ObjectiveSpec,
  Pooling,
  VectorOps,
} from "./engine.ts";
import type { VggWeights } from "../models/weights_types.ts";
import { contentLoss } from "../losses/content.ts";
import { maskAtLayer, styleLoss } from "../losses/gram.ts";
import { totalVariation } from "../losses/tv.ts";
import type { ConvInputGrad } from "./tfjs_conv.ts";
import { disposeVgg, layerBlock, layerShape, uploadVgg, vggForward } from "./tfjs_vgg.ts";
import { tfjsVectorOps } from "./tfjs_vector_ops.ts";

/** How a tfjs engine is set up: which registered backend it runs on and how convs differentiate. */
export interface TfjsEngineOptions {
  /** Engine name as in recipes (`cpu`, `wasm`, …). */
  readonly name: string;
  /** tfjs backend name (`cpu`, `wasm`, `webgpu`, `tensorflow`); must be registered and initialized. */
  readonly backend: string;
  /** Provenance text, e.g. the adapter in use. */
  readonly description: string;
  /** Conv input-gradient implementation (see tfjs_conv.ts). */
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

/** Content/style targets of one objective, uploaded once. */
interface TargetTensors {
  readonly content: { layer: string; weight: number; target: tf.Tensor3D }[];
  readonly style: { layer: string; weight: number; gram: tf.Tensor2D; mask?: tf.Tensor2D }[];
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
  ): Promise<Map<string, Activation>> {
    this.activate();
    checkImage(image.data.length, image.height, image.width);
    const net = uploadVgg(weights, layers);
    try {
      // tf.tidy keeps tensors returned in plain objects (not in Maps).
      const outputs: Record<string, tf.Tensor3D> = tf.tidy(() => {
        const x = tf.tensor3d(image.data, [image.height, image.width, 3]);
        return Object.fromEntries(vggForward(net, pooling, x, layers));
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

  /** Builds f and ∇f; the network and targets are uploaded once and freed by `dispose()`. */
  objective(spec: ObjectiveSpec): Promise<DisposableObjective<tf.Tensor>> {
    this.activate();
    const { height, width, weights } = spec;
    const contentLayers = spec.content.map((c) => c.layer);
    const styleLayers = spec.style.map((s) => s.layer);
    const layers = [...new Set([...contentLayers, ...styleLayers])];
    const net = uploadVgg(weights, layers, this.#options.convInputGrad);
    const targets = uploadTargets(spec);
    const terms = (x: tf.Tensor): tf.Tensor1D => {
      const image = tf.reshape(x, [height, width, 3]) as tf.Tensor3D;
      const features = vggForward(net, spec.pooling, image, layers);
      let content: tf.Scalar = tf.scalar(0);
      for (const c of targets.content) {
        content = tf.add(content, tf.mul(contentLoss(features.get(c.layer)!, c.target), c.weight));
      }
      let style: tf.Scalar = tf.scalar(0);
      for (const s of targets.style) {
        const loss = styleLoss(features.get(s.layer)!, s.gram, s.mask);
        style = tf.add(style, tf.mul(loss, s.weight));
      }
      const tv = spec.tvWeight === 0 ? tf.scalar(0) : totalVariation(image);
      return tf.stack([
        tf.mul(content, spec.contentWeight),
        tf.mul(style, spec.styleWeight),
        tf.mul(tv, spec.tvWeight),
      ]) as tf.Tensor1D;
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
        for (const c of targets.content) c.target.dispose();
        for (const s of targets.style) {
          s.gram.dispose();
          s.mask?.dispose();
        }
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

function checkImage(length: number, height: number, width: number): void {
  if (length !== height * width * 3) {
    throw new RangeError(`image has ${length} values, expected ${height}×${width}×3`);
  }
}

/** Uploads the targets of `spec`, checking each against its layer's shape. */
function uploadTargets(spec: ObjectiveSpec): TargetTensors {
  const { arch } = spec.weights;
  const { height, width } = spec;
  const content = spec.content.map((c) => {
    const shape = layerShape(arch, c.layer, height, width);
    expectLength(`content target ${c.layer}`, c.activations.length, shape);
    return { layer: c.layer, weight: c.weight, target: tf.tensor3d(c.activations, shape) };
  });
  const style = spec.style.map((s) => {
    const [h, w, channels] = layerShape(arch, s.layer, height, width);
    expectLength(`style target ${s.layer}`, s.gram.length, [channels, channels]);
    let mask: tf.Tensor2D | undefined;
    if (s.mask) {
      expectLength(`style mask for ${s.layer}`, s.mask.length, [height, width]);
      const block = layerBlock(arch, s.layer);
      mask = tf.tensor2d(maskAtLayer(s.mask, height, width, block), [h, w]);
    }
    return {
      layer: s.layer,
      weight: s.weight,
      gram: tf.tensor2d(s.gram, [channels, channels]),
      mask,
    };
  });
  return { content, style };
}

function expectLength(what: string, length: number, shape: readonly number[]): void {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (length !== expected) {
    throw new RangeError(`${what} has ${length} values, expected ${shape.join("×")}`);
  }
}
