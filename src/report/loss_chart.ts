/**
 * The loss curve of a render as an SVG line chart: one line per series (total loss and each
 * weighted term), iterations on x, a logarithmic y axis (losses fall by orders of magnitude), with
 * decade ticks and a legend. Pure: the same points give the same bytes.
 */
import { StylepipeError } from "../util/errors.ts";

/** A trace with nothing to draw (no positive loss values). */
export class LossChartError extends StylepipeError {}

/** One point of a loss trace (as the style-transfer stage records it). */
export interface LossPoint {
  readonly iteration: number;
  readonly loss: number;
  /** Weighted terms (`content`, `style`, `tv`, …), when recorded. */
  readonly terms?: Readonly<Record<string, number>>;
}

/** Chart size and title. */
export interface LossChartOptions {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
}

const COLORS = ["#1f2937", "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"];
const MARGIN = { left: 64, right: 16, top: 32, bottom: 40 };

/** The series to draw: `loss`, then each term that appears in the points, in first-seen order. */
export function lossSeries(points: readonly LossPoint[]): Map<string, [number, number][]> {
  const series = new Map<string, [number, number][]>([["loss", []]]);
  for (const p of points) {
    series.get("loss")!.push([p.iteration, p.loss]);
    for (const [name, value] of Object.entries(p.terms ?? {})) {
      if (!series.has(name)) series.set(name, []);
      series.get(name)!.push([p.iteration, value]);
    }
  }
  return series;
}

/** The SVG text of the chart; throws when there is nothing positive to draw. */
export function lossChartSvg(points: readonly LossPoint[], options: LossChartOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const series = lossSeries(points);
  const values = [...series.values()].flat().map(([, v]) => v).filter((v) => v > 0);
  if (!points.length || !values.length) throw new LossChartError("no positive loss values to plot");
  const iterations = points.map((p) => p.iteration);
  const [x0, x1] = [Math.min(...iterations), Math.max(...iterations)];
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const sx = (i: number) => MARGIN.left + (x1 === x0 ? 0 : (i - x0) / (x1 - x0)) * plotW;
  const sy = (v: number) => MARGIN.top + (1 - (Math.log10(v) - lo) / (hi - lo)) * plotH;
  const n = (v: number) => Number(v.toFixed(1));

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title) {
    out.push(`<text x="${MARGIN.left}" y="20" font-size="13">${escapeXml(options.title)}</text>`);
  }
  for (let d = lo; d <= hi; d++) {
    const y = n(sy(10 ** d));
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${
        width - MARGIN.right
      }" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">1e${d}</text>`,
    );
  }
  for (const i of xTicks(x0, x1)) {
    const x = n(sx(i));
    out.push(
      `<line x1="${x}" y1="${height - MARGIN.bottom}" x2="${x}" y2="${
        height - MARGIN.bottom + 4
      }" stroke="#6b7280"/>`,
      `<text x="${x}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${i}</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">iteration</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" ` +
      `fill="none" stroke="#6b7280"/>`,
  );
  [...series].forEach(([name, pts], k) => {
    const color = COLORS[k % COLORS.length];
    const path = pts.filter(([, v]) => v > 0).map(([i, v]) => `${n(sx(i))},${n(sy(v))}`);
    if (path.length) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="${name === "loss" ? 2 : 1.5}" ` +
          `points="${path.join(" ")}"><title>${escapeXml(name)}</title></polyline>`,
      );
    }
    const ly = MARGIN.top + 14 + k * 14;
    const lx = width - MARGIN.right - 90;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 16}" y2="${
        ly - 4
      }" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 20}" y="${ly}">${escapeXml(name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** About six round iteration ticks between x0 and x1. */
function xTicks(x0: number, x1: number): number[] {
  if (x1 <= x0) return [x0];
  const raw = (x1 - x0) / 6;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw)))
    .find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let i = Math.ceil(x0 / step) * step; i <= x1; i += step) ticks.push(i);
  return ticks;
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}
