/** The UTF-8 text of a byte stream, chunk by chunk (a child process's stdout or stderr). */
export function textStream(bytes: ReadableStream<Uint8Array>): ReadableStream<string> {
  // Typed through TransformStream: the studio's browser code puts the DOM's TextDecoderStream
  // (which writes BufferSource) into the same program when the whole tree is checked.
  return bytes.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>);
}
