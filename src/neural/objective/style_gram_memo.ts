/**
 * Style Gram matrices (and mean features) remembered within a process, keyed by everything they
 * depend on: engine, weights, pooling, padding, layers, the tile and the style image's pixels (at
 * the scale used). A matrix of contents ×
 * styles, or several steps sharing a painting, then computes each style's targets once; a result
 * is what a recomputation would give, so reproducibility is unaffected.
 */
import { sha256Parts } from "../../util/hash.ts";

/** What a style's Gram matrices depend on. */
export interface StyleGramKey {
  readonly engine: string;
  readonly weightsId: string;
  readonly pooling: string;
  readonly padding: string;
  readonly layers: readonly string[];
  readonly width: number;
  readonly height: number;
  /** The style image's pixels, HWC. */
  readonly pixels: Float32Array;
  /** Tile side when computed tile by tile (its sums differ from the whole image's in the last bits). */
  readonly tile?: number;
}

/** One layer's statistics of a style image: its normalized Gram matrix and mean feature. */
export interface StyleLayerStats {
  readonly gram: Float32Array;
  readonly mean: Float32Array;
}

/** A small least-recently-used memo of per-layer style statistics. */
export class StyleGramMemo {
  #entries = new Map<string, Promise<StyleLayerStats[]>>();

  /** @param capacity how many styles to remember (each holds ≤ 5 matrices of ≤ 512² floats) */
  constructor(readonly capacity = 16) {}

  /** The statistics for `key`, computing them with `compute` on first request. */
  get(key: StyleGramKey, compute: () => Promise<StyleLayerStats[]>): Promise<StyleLayerStats[]> {
    const id = sha256Parts([
      key.engine,
      key.weightsId,
      key.pooling,
      key.padding,
      key.layers.join(","),
      `${key.width}x${key.height}${key.tile === undefined ? "" : `@${key.tile}`}`,
      key.pixels,
    ]);
    const hit = this.#entries.get(id);
    if (hit) {
      this.#entries.delete(id); // re-insert: most recently used last
      this.#entries.set(id, hit);
      return hit;
    }
    const pending = compute();
    this.#entries.set(id, pending);
    pending.catch(() => this.#entries.delete(id));
    while (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return pending;
  }

  /** How many styles are remembered. */
  get size(): number {
    return this.#entries.size;
  }
}

/** The memo `extract-features` and `upscale` share within this process. */
export const styleGramMemo: StyleGramMemo = new StyleGramMemo();
