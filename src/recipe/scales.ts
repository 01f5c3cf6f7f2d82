/**
 * `scales:` — render coarse-to-fine: the style transfer runs at the first size, then each further
 * size is an `upscale` step refining the previous result. Each scale runs until its loss has
 * converged (the stage's `tolerance`, default {@link SCALES_TOLERANCE}), with `iterations` as the
 * cap, so every scale, the last included, ends converged rather than after a fixed count.
 *
 * ```yaml
 * scales: [256, 512, 1024]                  # sizes (longer side) only, or per scale:
 * scales:
 *   - { size: 256, iterations: 300 }        # cap
 *   - { size: 512, tolerance: 0.01 }        # stop criterion
 *   - { size: 1024, iterations: 80, tolerance: 0.05 }
 *   - { size: 4096, iterations: 3, line_search: none }   # this scale only
 * ```
 *
 * For every `style-transfer` step T (features from extract-features step F, whose content comes
 * from step C) the expansion
 * - inserts `C-<size₀>` (`resize` of C to the first size) and feeds it to F as the content, and sets
 *   T's iterations and tolerance to the first scale's (when given);
 * - adds `T-<sizeᵢ>` (`upscale`) for each further size, from the previous scale, with F's targets
 *   and C's and F's styles as the original images, T's optimizer settings, and the scale's
 *   iterations (default: the previous scale's cap) and tolerance (default: the previous scale's);
 * - feeds the steps that read T from the last scale instead.
 * Each scale's step id and parameters depend only on the sizes up to it, so its cache key does
 * too: raising only the final size re-renders only the final scale.
 * Feed extract-features the loaded (unresized) content: the expansion sizes it.
 */
import { z } from "npm:zod@4.6.7";
import type { ExtensionContext, RecipeExtension } from "./extensions.ts";
import type { DataPath } from "./parse.ts";
import type { RawStep } from "./recipe.ts";

const size = z.number().int().min(8);
const iterations = z.number().int().min(0);
const tolerance = z.number().min(0).lt(1);
const lineSearch = z.enum(["none", "strong_wolfe"]);
const scaleEntry = z.union([
  size,
  z.object({
    size,
    iterations: iterations.optional(),
    tolerance: tolerance.optional(),
    line_search: lineSearch.optional(),
  }).strict(),
]);

/**
 * The `tolerance` every scale gets unless the step or the scale sets one: stop once the loss fell
 * by less than 1 % over 10 iterations (docs/performance.md "Coarse-to-fine" has the measured traces).
 */
export const SCALES_TOLERANCE = 0.01;

/**
 * One scale: the result's longer side and (optionally) the iteration cap, tolerance and L-BFGS
 * line search there (this scale only: `none` where one evaluation of a print costs minutes and the
 * strong Wolfe search's first steps would cost tens of them).
 */
export interface Scale {
  readonly size: number;
  readonly iterations?: number;
  readonly tolerance?: number;
  readonly line_search?: "none" | "strong_wolfe";
}

/** Reads `scales:` into a list of at least two increasing sizes; problems go to `report`. */
export function readScales(
  value: unknown,
  report: (path: DataPath, message: string) => void,
): Scale[] {
  if (!Array.isArray(value) || value.length < 2) {
    report(["scales"], `"scales:" must list at least two sizes, e.g. [256, 512, 1024]`);
    return [];
  }
  const scales: Scale[] = [];
  value.forEach((v, i) => {
    const parsed = scaleEntry.safeParse(v);
    if (!parsed.success) {
      report(
        ["scales", i],
        `a scale is a size in pixels (an integer ≥ 8) or { size, iterations, tolerance, ` +
          `line_search }`,
      );
      return;
    }
    const scale = typeof parsed.data === "number" ? { size: parsed.data } : parsed.data;
    const before = scales.at(-1);
    if (before && scale.size <= before.size) {
      report(["scales", i], `sizes must increase: ${scale.size} after ${before.size}`);
    }
    scales.push(scale);
  });
  return scales.length === value.length ? scales : [];
}

/** The ids a `from:` value names for `input` of a stage whose inputs are `order`. */
function inputIds(from: unknown, input: string, order: readonly string[]): string[] {
  if (typeof from === "string") return order[0] === input ? [from] : [];
  if (Array.isArray(from)) {
    const v = from[order.indexOf(input)];
    return typeof v === "string" ? [v] : [];
  }
  if (from !== null && typeof from === "object") {
    const v = (from as Record<string, unknown>)[input];
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  }
  return [];
}

/** `from` with input `input` fed from `id` instead (as a map of inputs). */
function withInput(from: unknown, order: readonly string[], input: string, id: string): unknown {
  const named: Record<string, unknown> = {};
  for (const name of order) {
    const ids = inputIds(from, name, order);
    if (ids.length) named[name] = ids.length === 1 && !Array.isArray(from) ? ids[0] : ids;
  }
  if (from !== null && typeof from === "object" && !Array.isArray(from)) {
    Object.assign(named, from);
  }
  named[input] = id;
  return named;
}

/** `from` with every reference to `old` replaced by `id`. */
function renamed(from: unknown, old: string, id: string): unknown {
  if (typeof from === "string") return from === old ? id : from;
  if (Array.isArray(from)) return from.map((v) => renamed(v, old, id));
  if (from !== null && typeof from === "object") {
    return Object.fromEntries(Object.entries(from).map(([k, v]) => [k, renamed(v, old, id)]));
  }
  return from;
}

const FEATURE_INPUTS = ["content", "style", "masks"];
const TRANSFER_INPUTS = ["features", "init"];

/** Expands the scales over `steps`; returns the new list (problems go to `report`). */
export function expandScales(
  steps: readonly RawStep[],
  scales: readonly Scale[],
  report: (path: DataPath, message: string) => void,
): RawStep[] {
  let out = [...steps];
  const transfers = out.filter((s) => s.use === "style-transfer");
  if (transfers.length === 0) {
    report(["scales"], `"scales:" refines a style-transfer step, and the recipe has none`);
    return out;
  }
  const taken = new Set(out.map((s) => s.id));
  const claim = (id: string, path: DataPath): boolean => {
    if (!taken.has(id)) return taken.add(id), true;
    report(path, `"scales:" would add step "${id}", but a step has that id already`);
    return false;
  };
  // extract-features id → its original content step (several transfers may share features).
  const originalContent = new Map<string, string>();

  for (const transfer of transfers) {
    const tId = transfer.id as string;
    const fId = inputIds(transfer.from, "features", TRANSFER_INPUTS)[0];
    const features = out.find((s) => s.id === fId && s.use === "extract-features");
    const cId = originalContent.get(fId) ??
      (features && inputIds(features.from, "content", FEATURE_INPUTS)[0]);
    if (!features || !cId) {
      report(
        transfer.path,
        `"scales:" needs step "${tId}" fed by an extract-features step with a content input`,
      );
      continue;
    }
    const [first, ...rest] = scales;
    const resizeId = `${cId}-${first.size}`;
    const addResize = !originalContent.has(fId);
    if (addResize && !claim(resizeId, ["scales", 0])) continue;
    originalContent.set(fId, cId);

    const settings = { ...(transfer.with as Record<string, unknown> | undefined ?? {}) };
    delete settings.init;
    const firstIterations = first.iterations ?? settings.iterations;
    const firstTolerance = first.tolerance ?? settings.tolerance ?? SCALES_TOLERANCE;
    delete settings.iterations;
    delete settings.tolerance;

    const upscales: RawStep[] = [];
    let previous = tId;
    let previousIterations = firstIterations;
    let previousTolerance = firstTolerance;
    for (const [i, scale] of rest.entries()) {
      const id = `${tId}-${scale.size}`;
      if (!claim(id, ["scales", i + 1])) continue;
      const iters = scale.iterations ?? previousIterations;
      const tol = scale.tolerance ?? previousTolerance;
      upscales.push({
        id,
        use: "upscale",
        from: {
          image: previous,
          features: fId,
          content: cId,
          style: inputIds(features.from, "style", FEATURE_INPUTS),
        },
        with: {
          ...settings,
          size: scale.size,
          ...(iters === undefined ? {} : { iterations: iters }),
          tolerance: tol,
          ...(scale.line_search ? { line_search: scale.line_search } : {}),
        },
        path: ["scales", i + 1],
      });
      previous = id;
      previousIterations = iters;
      previousTolerance = tol;
    }
    const last = previous;
    const resize: RawStep = {
      id: resizeId,
      use: "resize",
      from: cId,
      with: { max_side: first.size, filter: "lanczos3" },
      path: ["scales", 0],
    };
    out = out.flatMap((s) => {
      if (s === features && addResize) {
        return [resize, { ...s, from: withInput(s.from, FEATURE_INPUTS, "content", resizeId) }];
      }
      if (s === transfer) {
        const iterations = firstIterations === undefined ? {} : { iterations: firstIterations };
        const search = first.line_search ? { line_search: first.line_search } : {};
        const own = {
          ...(s.with as object ?? {}),
          ...iterations,
          tolerance: firstTolerance,
          ...search,
        };
        return [{ ...s, with: own }, ...upscales];
      }
      return [{ ...s, from: renamed(s.from, tId, last) }];
    });
  }
  return out;
}

/** The `scales:` recipe extension (see the module comment). */
export function scalesExtension(): RecipeExtension {
  return {
    key: "scales",
    apply(value: unknown, ctx: ExtensionContext) {
      const report = (path: DataPath, message: string) => ctx.issues.add(ctx.at(path), message);
      const scales = readScales(value, report);
      if (scales.length) ctx.steps = expandScales(ctx.steps, scales, report);
    },
  };
}
