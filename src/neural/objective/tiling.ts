/**
 * The geometry of tiled evaluation (objective/tiled.ts): how an image is cut into owned tiles,
 * how much context (halo) each needs so that the features it owns equal the whole image's, and
 * which rows and columns of each layer a tile owns.
 *
 * A crop's own borders are padded by the network (zero, or reflect/replicate at the first conv)
 * as if they were the image's; the wrong values spread inwards by one position of a layer per 3×3
 * conv, and a 2×2 pool widens the polluted band to whole windows. {@link tileHalo} follows that
 * spread through the plan to the deepest layer read. Tiles and halos are multiples of the deepest
 * layer's total pooling stride, so every crop starts on a pooling window of every layer and its
 * pooled grids coincide with the whole image's. Where a crop reaches the image's border, the crop
 * pads exactly as the whole image does.
 */
import { layerBlock, layerSize } from "../plan/network.ts";
import { layerNames, type VggArch } from "../models/layers.ts";

/** How an image is cut: owned tiles of side `tile` px (last row/col smaller), each evaluated with `halo` px of context. */
export interface Tiling {
  /** Side of an owned tile in image pixels (a multiple of the deepest layer's pooling stride). */
  readonly tile: number;
  /** Context on each side of a tile, image pixels (at least; none beyond the image's border). */
  readonly halo: number;
  /** Tile rows: ⌈height / tile⌉. */
  readonly rows: number;
  /** Tile columns: ⌈width / tile⌉. */
  readonly cols: number;
}

/** A half-open range [start, end) of rows or columns. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** One tile: the image rows/columns it owns and the crop (owned + halo, see tilesOf) evaluated for it. */
export interface Tile {
  readonly row: number;
  readonly col: number;
  /** Owned image rows and columns. */
  readonly owned: { readonly y: Span; readonly x: Span };
  /** Crop rows and columns (start a multiple of the pooling stride). */
  readonly crop: { readonly y: Span; readonly x: Span };
}

/** The total pooling stride of `layer`: 2^(pools before it). */
export function layerStride(arch: VggArch, layer: string): number {
  return 2 ** (layerBlock(arch, layer) - 1);
}

/**
 * The context (image px) a crop needs around the positions it owns so that every layer in `layers`
 * is exact there: the depth to which the crop's own border padding reaches the deepest of them
 * (+1 layer-position per conv, pools rounding up to whole windows), rounded up to its stride.
 */
export function tileHalo(arch: VggArch, layers: readonly string[]): number {
  const order = layerNames(arch);
  for (const layer of layers) layerBlock(arch, layer); // throws for an unknown layer
  const deepest = Math.max(...layers.map((l) => order.indexOf(l)));
  let depth = 0; // polluted band, image px
  let stride = 1;
  for (const name of order.slice(0, deepest + 1)) {
    if (name.startsWith("conv")) depth += stride;
    else if (name.startsWith("pool")) {
      stride *= 2;
      depth = Math.ceil(depth / stride) * stride;
    }
  }
  return Math.ceil(depth / stride) * stride;
}

/** The largest pooling stride among `layers` (tiles and crops are aligned to it). */
export function tilingStride(arch: VggArch, layers: readonly string[]): number {
  return Math.max(1, ...layers.map((l) => layerStride(arch, l)));
}

/**
 * The tiling of a height × width image for the layers read, with tiles of about `tile` px: the
 * side is rounded down to the deepest layer's pooling stride (at least one stride), the halo is
 * {@link tileHalo}. `arch` and `layers` as in the objective (`weights.arch`, the layers its terms
 * read: plan/loss.ts layersRead).
 */
export function tilingFor(
  arch: VggArch,
  layers: readonly string[],
  height: number,
  width: number,
  tile: number,
): Tiling {
  if (!(tile >= 1) || !(height >= 1) || !(width >= 1)) {
    throw new RangeError(`tiling needs positive sizes (tile ${tile}, image ${height}×${width})`);
  }
  const stride = tilingStride(arch, layers);
  const side = Math.max(stride, Math.floor(tile / stride) * stride);
  return {
    tile: side,
    halo: layers.length === 0 ? 0 : tileHalo(arch, layers),
    rows: Math.ceil(height / side),
    cols: Math.ceil(width / side),
  };
}

/**
 * Throws a RangeError unless `tiling`'s tile and halo are multiples of the pooling stride of
 * `layers` (a tiling made for other layers); a halo shorter than {@link tileHalo} is accepted
 * (the result is then inexact: tests show it).
 */
export function checkTiling(arch: VggArch, layers: readonly string[], tiling: Tiling): void {
  const stride = tilingStride(arch, layers);
  if (tiling.tile % stride !== 0 || tiling.halo % stride !== 0) {
    throw new RangeError(
      `a tiling of ${tiling.tile} px + ${tiling.halo} px halo is not aligned to the ${stride} px ` +
        `pooling stride of ${layers.join(", ")}`,
    );
  }
}

/**
 * The tiles of `tiling` over a height × width image, row by row. Every crop along a side has one
 * length ({@link cropLength}, or the image's side): at the border it reaches further inwards
 * instead of being clipped (see cropSpan).
 */
export function tilesOf(tiling: Tiling, height: number, width: number): Tile[] {
  const { tile, halo, rows, cols } = tiling;
  if (rows !== Math.ceil(height / tile) || cols !== Math.ceil(width / tile)) {
    throw new RangeError(
      `a ${rows}×${cols} tiling of ${tile} px does not cover ${height}×${width}`,
    );
  }
  const stride = alignment(tiling);
  const span = (i: number, n: number, count: number) => {
    const owned = { start: i * tile, end: Math.min(n, (i + 1) * tile) };
    return { owned, crop: cropSpan(owned, n, cropLength(tiling, count), halo, stride) };
  };
  const out: Tile[] = [];
  for (let row = 0; row < rows; row++) {
    const y = span(row, height, rows);
    for (let col = 0; col < cols; col++) {
      const x = span(col, width, cols);
      out.push({ row, col, owned: { y: y.owned, x: x.owned }, crop: { y: y.crop, x: x.crop } });
    }
  }
  return out;
}

/**
 * The length of every crop along a side cut into `count` tiles: tile + 2·halo, where interior tiles
 * need context on both sides; tile + halo with two tiles (each reaches one border); before the
 * image's side caps it.
 */
export function cropLength(tiling: Pick<Tiling, "tile" | "halo">, count: number): number {
  return tiling.tile + tiling.halo * Math.min(2, count - 1);
}

/**
 * The crop of an owned span: `length` px (or the whole side), so that (nearly) every crop has one
 * shape and an engine compiles it once. A crop that
 * would run past the image's end is moved back instead of clipped, to a start aligned to the
 * pooling stride (it then reaches the end, up to stride − 1 px longer): the owned features only
 * gain context, and the crop pads only where it reaches the image's true border.
 */
function cropSpan(owned: Span, n: number, length: number, halo: number, stride: number): Span {
  if (length >= n) return { start: 0, end: n };
  const start = Math.max(0, owned.start - halo);
  if (start + length <= n) return { start, end: start + length };
  return { start: Math.floor((n - length) / stride) * stride, end: n };
}

/** The stride crop starts align to: the largest power of two dividing both tile and halo. */
function alignment(tiling: Tiling): number {
  let stride = 1;
  while (tiling.tile % (stride * 2) === 0 && tiling.halo % (stride * 2) === 0) stride *= 2;
  return stride;
}

/**
 * Where a tile's owned positions lie at the resolution of `layer`: in the crop's grid (`inCrop`) and
 * in the whole image's (`inImage`), for an image of `height` × `width`. The owned span of the last
 * tile runs to the image layer's floored edge.
 */
export function ownedAtLayer(
  arch: VggArch,
  layer: string,
  tile: Tile,
  height: number,
  width: number,
): { inCrop: { y: Span; x: Span }; inImage: { y: Span; x: Span }; crop: [number, number] } {
  const block = layerBlock(arch, layer);
  const s = layerStride(arch, layer);
  const [h, w] = layerSize(block, height, width);
  const at = (owned: Span, crop: Span, n: number, full: number) => {
    const end = owned.end === full ? n : owned.end / s;
    const image = { start: owned.start / s, end };
    const offset = crop.start / s;
    return { image, crop: { start: image.start - offset, end: image.end - offset } };
  };
  const y = at(tile.owned.y, tile.crop.y, h, height);
  const x = at(tile.owned.x, tile.crop.x, w, width);
  const crop = layerSize(
    block,
    tile.crop.y.end - tile.crop.y.start,
    tile.crop.x.end - tile.crop.x.start,
  );
  return { inCrop: { y: y.crop, x: x.crop }, inImage: { y: y.image, x: x.image }, crop };
}
