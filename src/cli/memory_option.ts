/** `--memory SIZE` (plan, render, worker): one budget for the whole run. */
import { IMAGE_BUDGET_ENV } from "../stages/pixel_limit.ts";
import { parseSize } from "./cache.ts";

/**
 * The bytes of `--memory` (undefined when not given). Given, it is also the budget of the images
 * the run decodes and holds (stages/pixel_limit.ts reads it from the environment, so the farm's job
 * processes inherit it), so one number bounds the run; without it images keep their default budget
 * and the neural steps fit into this machine's memory.
 */
export function memoryOption(raw: string | undefined, command: string): number | undefined {
  if (raw === undefined) return undefined;
  const bytes = parseSize(raw, `${command}: --memory`);
  Deno.env.set(IMAGE_BUDGET_ENV, String(bytes / 1e6));
  return bytes;
}
