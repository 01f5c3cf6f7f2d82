/** How the user starts stylepipe from where they are, for the commands stylepipe suggests. */
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The URL of stylepipe's mod.ts (a file: URL in a clone, https: when run from a URL). */
export const MOD_URL = new URL("../../mod.ts", import.meta.url);

/**
 * The command prefix that runs stylepipe in `cwd`: `deno task` inside the clone (its deno.json has
 * the tasks), else `deno run -A <path or URL of mod.ts>`.
 */
export function stylepipeCommand(cwd: string = Deno.cwd(), mod: URL = MOD_URL): string {
  if (mod.protocol !== "file:") return `deno run -A ${mod.href}`;
  const file = fileURLToPath(mod);
  const fromRoot = relative(resolve(file, ".."), resolve(cwd));
  if (!fromRoot.startsWith("..") && !fromRoot.startsWith("/")) return "deno task";
  return `deno run -A ${quoteIfNeeded(file)}`;
}

function quoteIfNeeded(path: string): string {
  return /^[\w./@:+-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
