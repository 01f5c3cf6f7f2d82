/**
 * The cuda engine's self-check on first use in a process: a tiny fixed case (24×20 px, reflect
 * padding, max pooling, synthetic VGG19 to conv2_1, seeded targets), one objective per term kind
 * (content, gram, masked gram, mean-covariance, tv), each loss and gradient compared with the
 * onnx engine's values computed on the CPU and stored in self_check_reference.json. An engine
 * that has never been proven on this GPU must not silently produce wrong pictures: a mismatch
 * refuses the engine, naming the term and the difference.
 */
import { gramMatrix } from "../../objective/gram.ts";
import { featureMean } from "../../objective/mean_covariance.ts";
import type { ObjectiveSpec } from "../../objective/spec.ts";
import { syntheticVggWeights } from "../../models/synthetic.ts";
import { Prng } from "../../../util/prng.ts";
import { type Engine, EngineUnavailableError } from "../engine.ts";
import type { CudaPrecision } from "./conv_algorithms.ts";
import reference from "./self_check_reference.json" with { type: "json" };

/** The term kinds checked, each in its own objective. */
export const SELF_CHECK_TERMS = [
  "content",
  "gram",
  "masked-gram",
  "mean-covariance",
  "tv",
] as const;

/** One of {@link SELF_CHECK_TERMS}. */
export type SelfCheckTerm = typeof SELF_CHECK_TERMS[number];

/** The largest relative difference accepted, per precision (loss; gradient in L2 norm). */
export const SELF_CHECK_TOLERANCE: Record<CudaPrecision, number> = { fp32: 1e-4, tf32: 1e-2 };

const HEIGHT = 24, WIDTH = 20;

/** One term's loss and gradient. */
export interface TermResult {
  readonly loss: number;
  readonly grad: Float32Array;
}

/** The stored reference: the onnx engine's result per term. */
export interface SelfCheckReference {
  readonly about: string;
  readonly terms: Record<SelfCheckTerm, { loss: number; grad: string }>;
}

/** A self-check that failed: the term and how far off it was. */
export class CudaSelfCheckError extends EngineUnavailableError {
  /** @param term the term kind @param detail the values and their difference */
  constructor(readonly term: SelfCheckTerm, detail: string) {
    super(
      "cuda",
      `engine cuda failed its self-check on this GPU: the ${term} term ${detail}; it is not ` +
        `used (report this with \`deno task dev gpu-smoke\`'s output; use engine onnx meanwhile)`,
    );
  }
}

/** The fixed case's image (HWC RGB, 0–255). */
export function selfCheckImage(): Float32Array {
  return new Prng(2402).fillUniform(new Float32Array(HEIGHT * WIDTH * 3), 0, 255);
}

/** The fixed case's objective for one term kind (targets seeded, not extracted: no engine needed). */
export function selfCheckSpec(term: SelfCheckTerm): ObjectiveSpec {
  const weights = syntheticVggWeights("vgg19", 2402, "conv2_1");
  const prng = new Prng(2403);
  const features = (height: number, width: number, channels: number) => ({
    height,
    width,
    channels,
    data: prng.fillUniform(new Float32Array(height * width * channels), 0, 2),
  });
  const half = features(HEIGHT / 2, WIDTH / 2, 128);
  const full = features(HEIGHT, WIDTH, 64);
  const mask = new Float32Array(HEIGHT * WIDTH).map((_, i) => (i % WIDTH < WIDTH / 2 ? 1 : 0.25));
  const base: ObjectiveSpec = {
    weights,
    pooling: "max",
    height: HEIGHT,
    width: WIDTH,
    content: [],
    style: [],
    contentWeight: 1,
    styleWeight: 1,
    tvWeight: 0,
    padding: "reflect",
  };
  switch (term) {
    case "content":
      return { ...base, content: [{ layer: "relu2_1", weight: 1, activations: half.data }] };
    case "gram":
      return { ...base, style: [{ layer: "relu1_1", weight: 1, gram: gramMatrix(full) }] };
    case "masked-gram":
      return {
        ...base,
        style: [{ layer: "conv1_2", weight: 1, gram: gramMatrix(full, mask), mask }],
      };
    case "mean-covariance":
      return {
        ...base,
        style: [{
          layer: "relu2_1",
          weight: 1,
          gram: gramMatrix(half),
          mean: featureMean(half),
          statistic: "mean-covariance",
        }],
      };
    case "tv":
      return { ...base, tvWeight: 1 };
  }
}

/** Each term's loss and gradient on `engine`. */
export async function evaluateSelfCheck<V>(
  engine: Engine<V>,
): Promise<Record<SelfCheckTerm, TermResult>> {
  const x = selfCheckImage();
  const out = {} as Record<SelfCheckTerm, TermResult>;
  for (const term of SELF_CHECK_TERMS) {
    const objective = await engine.objective(selfCheckSpec(term));
    const xv = engine.vec.fromArray(x);
    try {
      const e = await objective.evaluate(xv);
      out[term] = { loss: e.loss, grad: await engine.vec.toArray(e.grad) };
      engine.vec.dispose(e.grad);
    } finally {
      engine.vec.dispose(xv);
      objective.dispose();
    }
  }
  return out;
}

/** The stored reference values. */
export function selfCheckReference(): Record<SelfCheckTerm, TermResult> {
  const stored = reference as SelfCheckReference;
  return Object.fromEntries(SELF_CHECK_TERMS.map((term) => {
    const bytes = Uint8Array.fromBase64(stored.terms[term].grad);
    return [term, { loss: stored.terms[term].loss, grad: new Float32Array(bytes.buffer) }];
  })) as Record<SelfCheckTerm, TermResult>;
}

/** The reference file's contents for `results` (computed by the onnx engine). */
export function encodeSelfCheckReference(
  results: Record<SelfCheckTerm, TermResult>,
  about: string,
): SelfCheckReference {
  const terms = Object.fromEntries(SELF_CHECK_TERMS.map((term) => [term, {
    loss: results[term].loss,
    grad: new Uint8Array(results[term].grad.buffer).toBase64(),
  }])) as SelfCheckReference["terms"];
  return { about, terms };
}

/** Per term, the relative difference of the loss and of the gradient (L2). */
export function compareSelfCheck(
  got: Record<SelfCheckTerm, TermResult>,
  want: Record<SelfCheckTerm, TermResult>,
): Record<SelfCheckTerm, { loss: number; grad: number }> {
  return Object.fromEntries(SELF_CHECK_TERMS.map((term) => {
    const a = want[term], b = got[term];
    let diff = 0, norm = 0;
    for (let i = 0; i < a.grad.length; i++) {
      diff += (a.grad[i] - (b.grad[i] ?? NaN)) ** 2;
      norm += a.grad[i] ** 2;
    }
    const loss = Math.abs(a.loss - b.loss) / Math.max(Math.abs(a.loss), 1e-30);
    return [term, { loss, grad: Math.sqrt(diff / Math.max(norm, 1e-30)) }];
  })) as Record<SelfCheckTerm, { loss: number; grad: number }>;
}

/**
 * Runs the self-check on `engine` at `precision`; throws {@link CudaSelfCheckError} naming the
 * first term off by more than the tolerance (or not a number).
 */
export async function selfCheck<V>(engine: Engine<V>, precision: CudaPrecision): Promise<void> {
  const want = selfCheckReference();
  const got = await evaluateSelfCheck(engine);
  const diffs = compareSelfCheck(got, want);
  const tol = SELF_CHECK_TOLERANCE[precision];
  for (const term of SELF_CHECK_TERMS) {
    const d = diffs[term];
    if (d.loss <= tol && d.grad <= tol) continue;
    const what = !(d.loss <= tol)
      ? `loss is ${got[term].loss.toExponential(6)}, expected ${want[term].loss.toExponential(6)}`
      : "gradient differs";
    throw new CudaSelfCheckError(
      term,
      `${what} (relative difference: loss ${d.loss.toExponential(2)}, gradient ` +
        `${d.grad.toExponential(2)}; ${precision} tolerance ${tol})`,
    );
  }
}

/** All the fixed case's terms in one objective (gpu-smoke's and the tests' tiled evaluation). */
export function selfCheckCombinedSpec(): ObjectiveSpec {
  const parts = SELF_CHECK_TERMS.map(selfCheckSpec);
  return {
    ...parts[0],
    content: parts.flatMap((p) => p.content),
    style: parts.flatMap((p) => p.style),
    tvWeight: 1,
  };
}
