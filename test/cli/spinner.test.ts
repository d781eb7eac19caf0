// The spinner's line never reaches the terminal's last column: a line that wraps cannot be erased in place, and
// each frame would leave a line behind (seen in tmux at 120 columns during the video wait).
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createSpinner } from "../../src/cli/spinner.ts";

function terminal(columns: number) {
  const writes: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        writes.push(String(chunk));
        done();
      },
    }),
    { columns },
  );
  return { out, writes };
}

const ESC = String.fromCharCode(27);
const ERASE = `\r${ESC}[2K`;
const COLOUR = new RegExp(`${ESC}\\[[0-9;]*m`, "g");
/** The visible text of one frame: after the CR and erase-line, without colour codes. */
const visible = (frame: string) =>
  (frame.startsWith(ERASE) ? frame.slice(ERASE.length) : frame).replace(COLOUR, "");

describe("the spinner's line", () => {
  for (const columns of [40, 80, 120]) {
    it(`fits a ${columns}-column terminal, frame and all, whatever the message`, async () => {
      const { out, writes } = terminal(columns);
      const spinner = createSpinner(out, (_style, text) => `\u001b[33m${text}\u001b[39m`);
      spinner.start(`Step 4/5 ${"video check: task task-1 is RUNNING; next poll in 10.0 s ".repeat(4)}`);
      await sleep(200);
      spinner.stop("done");
      // Frames, not the bare erase before the final line.
      const frames = writes.filter((w) => w.startsWith(ERASE) && visible(w).length > 0);
      assert.ok(frames.length >= 2, "it drew frames");
      for (const frame of frames) {
        const text = visible(frame);
        assert.ok(text.length <= columns - 1, `${text.length} columns on a ${columns}-column line: ${text}`);
        assert.ok(text.endsWith("…"), "a long message is cut, and says so");
      }
    });
  }
});
