import type { Writable } from "node:stream";

/**
 * A one-line progress indicator for the terminal UI, drawn like @clack/prompts' (which draws the rest) but
 * without its input handling: clack's spinner puts stdin in raw mode and calls `process.exit(0)` on Ctrl-C,
 * so an interrupted run exited 0 and wrote nothing (`tokenhub-setup && deploy` carried on). This one never
 * touches stdin: Ctrl-C stays SIGINT, the CLI cancels the flow, the record is written and the exit is 130.
 */
export interface Spinner {
  start(message: string): void;
  message(message: string): void;
  /**
   * Ends the line with a final message: `ok` marks success (green), `failed` failure and `cancelled` an
   * interruption (red), `attention` something the person must do next (yellow).
   */
  stop(message: string, outcome?: "ok" | "failed" | "cancelled" | "attention"): void;
  /** Removes the line, leaving nothing behind. */
  clear(): void;
  readonly active: boolean;
}

const FRAMES = ["◒", "◐", "◓", "◑"];
const MARKS = { ok: "◇", failed: "■", cancelled: "■", attention: "▲" } as const;
const FRAME_MS = 80;
/** What comes before the text on the line: the frame and two spaces. */
const PREFIX_COLUMNS = 3;

export function createSpinner(
  out: Writable & { columns?: number },
  paint: (style: "green" | "red" | "yellow" | "dim", text: string) => string,
): Spinner {
  let timer: NodeJS.Timeout | undefined;
  let text = "";
  let frame = 0;
  let startedAt = 0;

  const elapsed = () => {
    const s = Math.floor((Date.now() - startedAt) / 1000);
    return s >= 60 ? `[${Math.floor(s / 60)}m ${s % 60}s]` : `[${s}s]`;
  };
  // The whole line, prefix included, stays under the terminal's width: a line that wraps cannot be erased with
  // one "erase line", and every frame would leave a line behind.
  const fit = (line: string) => {
    const width = Math.max(20, (out.columns ?? 80) - 1 - PREFIX_COLUMNS);
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  };
  // CR and "erase line": the line is redrawn in place; nothing else on the screen moves.
  const draw = () => {
    out.write(
      `\r\u001b[2K${paint("yellow", FRAMES[frame % FRAMES.length] ?? "")}  ${fit(`${text} ${elapsed()}`)}`,
    );
    frame += 1;
  };
  const end = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    out.write("\r\u001b[2K");
  };

  return {
    get active() {
      return timer !== undefined;
    },
    start(message) {
      if (timer) end();
      text = message;
      frame = 0;
      startedAt = Date.now();
      draw();
      timer = setInterval(draw, FRAME_MS);
      // A spinner must never keep the process alive on its own.
      timer.unref();
    },
    message(message) {
      text = message;
      if (timer) draw();
    },
    stop(message, outcome = "ok") {
      end();
      const colour = outcome === "ok" ? "green" : outcome === "attention" ? "yellow" : "red";
      const mark = paint(colour, MARKS[outcome]);
      out.write(`${mark}  ${message}\n`);
    },
    clear() {
      if (timer) end();
    },
  };
}
