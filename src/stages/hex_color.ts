/** Colours as recipes write them: `#rgb` or `#rrggbb`. */
import { z } from "npm:zod@4.6.7";

/** A zod schema for a `#rgb` / `#rrggbb` colour parameter. */
export function hexColorParam(what: string) {
  return z.string().regex(
    /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/,
    `${what} must be a colour like #000 or #1a2b3c`,
  );
}

/** `#rgb` / `#rrggbb` as RGB in [0, 1]. */
export function parseHexColor(hex: string): [number, number, number] {
  const h = hex.slice(1);
  const full = h.length === 3 ? [...h].map((c) => c + c).join("") : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255) as [number, number, number];
}
