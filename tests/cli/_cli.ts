/** The command line as a user runs it: a subprocess of `mod.ts`, as the deno tasks start it. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repo = fileURLToPath(new URL("../../", import.meta.url));

/** What a command printed and how it ended. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deno run -A --deny-import mod.ts ARGS` in `cwd` (default: the repository) with NO_COLOR
 * and `env` added to the environment.
 */
export async function runCli(
  args: readonly string[],
  cwd: string = repo,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--deny-import", join(repo, "mod.ts"), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
