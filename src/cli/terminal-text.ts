/**
 * Text from a server or a file, made safe to print on a terminal. A reply, an error message or a record field
 * could carry ESC sequences (move the cursor, recolour, retitle the window, rewrite what was printed), a bare
 * CR that overwrites the line, BEL, or bidirectional overrides that reorder what a person reads. Each is
 * replaced by U+FFFD, so the reader sees that something was there; newlines and tabs stay. Only human output
 * goes through this: `--json` prints the exact text, JSON-escaped.
 */

// ESC sequences first (CSI with its parameters, OSC up to BEL or ST, any other ESC + one character), so one
// sequence becomes one mark; then single C0 controls but TAB and LF, DEL and C1; then the Unicode format
// controls that reorder or hide text (bidi embeddings, overrides and isolates; line and paragraph separators).
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[\s\S]?|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\u202a-\u202e\u2066-\u2069\u2028\u2029\u200e\u200f\u061c]/g;

export const REPLACEMENT = "\ufffd";

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, REPLACEMENT);
}
