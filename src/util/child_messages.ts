/**
 * The line protocol between stylepipe and a child process it runs (a farm job, a page's render):
 * each message is one line of the child's stdout, a prefix and then JSON. Other lines are the
 * child's own output (a plugin's or a library's), which the parent passes on to stderr.
 */
import { lines } from "./lines.ts";

/** Writes `message` as one line of stdout, whole and at once (no other output can cut into it). */
export function sendMessage(prefix: string, message: unknown): void {
  const line = new TextEncoder().encode(prefix + JSON.stringify(message) + "\n");
  for (let done = 0; done < line.length;) done += Deno.stdout.writeSync(line.subarray(done));
}

/** The messages among a child's stdout lines, in order; its other non-blank lines go to stderr. */
export async function* readMessages<T>(
  prefix: string,
  stdout: ReadableStream<Uint8Array>,
): AsyncGenerator<T> {
  for await (const line of lines(stdout)) {
    if (line.startsWith(prefix)) yield JSON.parse(line.slice(prefix.length)) as T;
    else if (line.trim()) console.error(line);
  }
}
