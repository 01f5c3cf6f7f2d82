/**
 * How the neural stages evaluate at the tile the plan chose (ctx.fit, memory_fit.ts) or the
 * recipe's `tile:`: the objective and the targets through objective/tiled.ts when a tiling has
 * more than one tile, else the engine's whole-image methods. The tiled engine calls go through
 * {@link watchedEngine}, which checks the cancel signal and reports the tile before each one.
 */
import type { DisposableObjective, Engine } from "../neural/engines/engine.ts";
import type { Activation, ObjectiveSpec } from "../neural/objective/spec.ts";
import type { Padding, Pooling } from "../neural/plan/network.ts";
import type { VggWeights } from "../neural/models/weights_types.ts";
import { featureMean } from "../neural/objective/mean_covariance.ts";
import { gramMatrix } from "../neural/objective/gram.ts";
import { tiledExtract, tiledObjective } from "../neural/objective/tiled.ts";
import { type Tiling, tilingFor } from "../neural/objective/tiling.ts";

/** An image as the engines take it: HWC RGB, 0–255. */
type EngineImage = { readonly height: number; readonly width: number; readonly data: Float32Array };

/** What a stage's tiled evaluation reports and obeys. */
export interface TileWatch {
  /** Checked before every tile: an aborted run stops within one tile. */
  readonly signal: AbortSignal;
  /** Called before every tile: its 1-based index in the pass and the tiles per pass. */
  onTile(tile: number, tiles: number): void;
}

/**
 * The tiling of a `height` × `width` image for `layers` at `tile` px, or undefined for the whole
 * image (no tile, or one tile covering it).
 */
export function tilingAt(
  weights: VggWeights,
  layers: readonly string[],
  height: number,
  width: number,
  tile: number | undefined,
): Tiling | undefined {
  if (tile === undefined) return undefined;
  const tiling = tilingFor(weights.arch, layers, height, width, tile);
  return tiling.rows * tiling.cols > 1 ? tiling : undefined;
}

/** f and ∇f of `spec`: tiled at `tile` px when that cuts the image, else the engine's own. */
export function objectiveAt<V>(
  engine: Engine<V>,
  spec: ObjectiveSpec,
  tile: number | undefined,
  watch: TileWatch,
): Promise<DisposableObjective<V>> {
  const layers = [...spec.content, ...spec.style].map((t) => t.layer);
  const tiling = tilingAt(spec.weights, layers, spec.height, spec.width, tile);
  return tiling
    ? tiledObjective(watchedEngine(engine, tiling, watch), spec, tiling)
    : engine.objective(spec);
}

/** The activations of `layers` for `image` (content targets), tiled at `tile` px when it cuts. */
export async function activationsAt(
  engine: Engine,
  weights: VggWeights,
  pooling: Pooling,
  image: EngineImage,
  layers: readonly string[],
  padding: Padding,
  tile: number | undefined,
): Promise<Map<string, Activation>> {
  const tiling = tilingAt(weights, layers, image.height, image.width, tile);
  if (!tiling) return engine.extract(weights, pooling, image, layers, padding);
  const request = { activations: layers, statistics: [] };
  return (await tiledExtract(engine, weights, pooling, image, request, tiling, padding))
    .activations;
}

/** The Gram matrix and mean of each of `layers` for `image`, tiled at `tile` px when it cuts. */
export async function statisticsAt(
  engine: Engine,
  weights: VggWeights,
  pooling: Pooling,
  image: EngineImage,
  layers: readonly string[],
  padding: Padding,
  tile: number | undefined,
): Promise<{ gram: Float32Array; mean: Float32Array }[]> {
  const tiling = tilingAt(weights, layers, image.height, image.width, tile);
  if (!tiling) {
    const acts = await engine.extract(weights, pooling, image, layers, padding);
    return layers.map((l) => ({ gram: gramMatrix(acts.get(l)!), mean: featureMean(acts.get(l)!) }));
  }
  const request = { activations: [], statistics: layers.map((layer) => ({ layer })) };
  return (await tiledExtract(engine, weights, pooling, image, request, tiling, padding))
    .statistics;
}

/**
 * `engine` with its per-tile methods (statistics: the first pass, planObjective: the second)
 * checking `watch.signal` and reporting the tile before each call; everything else unchanged.
 */
export function watchedEngine<V>(engine: Engine<V>, tiling: Tiling, watch: TileWatch): Engine<V> {
  const tiles = tiling.rows * tiling.cols;
  let call = 0;
  const before = () => {
    watch.signal.throwIfAborted();
    watch.onTile(call++ % tiles + 1, tiles);
  };
  const statistics = engine.statistics?.bind(engine);
  const planObjective = engine.planObjective?.bind(engine);
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === "statistics" && statistics) {
        return (...args: Parameters<typeof statistics>) => (before(), statistics(...args));
      }
      if (prop === "planObjective" && planObjective) {
        return (...args: Parameters<typeof planObjective>) => (before(), planObjective(...args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
