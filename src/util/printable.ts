/**
 * Text safe to echo to a terminal: control characters (C0 but newline, DEL, C1 — ANSI escape
 * sequences start with ESC or CSI) are shown as `\xNN`, so a file or path name cannot move the
 * cursor, recolour, retitle or clear the user's terminal.
 */

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;

/** `text` with its control characters written as `\xNN`. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
