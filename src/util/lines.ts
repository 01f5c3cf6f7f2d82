/** Splitting a byte stream into text lines (a child process's stdout). */
import { textStream } from "./text_stream.ts";

/** The lines of a UTF-8 byte stream, without their newlines (a last unterminated line included). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of textStream(stream)) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}
