/** A measurement run in its own Deno process (its own peak RSS), reporting one JSON line. */

/** What a child measurement printed: its last stdout line, or why it failed. */
export type ChildOutcome =
  | { readonly ok: true; readonly line: string }
  | { readonly ok: false; readonly code: number; readonly detail: string };

/**
 * Runs `deno run -A <script> ...args` and returns its last stdout line, or on failure its exit code
 * and the stderr line naming the error (else the last one).
 */
export async function runJsonChild(script: string, args: readonly string[]): Promise<ChildOutcome> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n");
    const detail = stderr.find((l) => /error/i.test(l)) ?? stderr.at(-1) ?? "";
    return { ok: false, code: output.code, detail };
  }
  return {
    ok: true,
    line: new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "",
  };
}
