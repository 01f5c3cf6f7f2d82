/** How the CLI starts itself again as a child process (from the source tree or a compiled binary). */
import { fileURLToPath } from "node:url";

/** The command (program, then arguments) running this CLI with `args`. */
export function selfCommand(...args: string[]): string[] {
  const mod = fileURLToPath(new URL("../../mod.ts", import.meta.url));
  const cli = Deno.build.standalone
    ? [Deno.execPath()]
    : [Deno.execPath(), "run", "-A", "--deny-import", mod];
  return [...cli, ...args];
}
