import type { DestinationStream } from "pino";
import { createLogger, type Logger } from "../session/index.ts";
import type { HostLogger } from "./host.ts";

/**
 * The skill's pino logger, writing through the host's logger so lines land in OpenClaw's own log with the
 * plugin's prefix. Lines arrive here already scrubbed (log.ts scrubs at hooks.streamWrite).
 */
export function hostLogger(host: HostLogger, level: string): Logger {
  const destination: DestinationStream = {
    write(line: string) {
      let entry: { level?: number; msg?: string; [k: string]: unknown };
      try {
        entry = JSON.parse(line);
      } catch {
        host.info(`[tokenhub-setup] ${line.trim()}`);
        return;
      }
      const { level: n = 30, msg = "", time: _t, pid: _p, hostname: _h, name: _n, ...fields } = entry;
      const text = `[tokenhub-setup] ${msg}${Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ""}`;
      if (n >= 50) host.error(text);
      else if (n >= 40) host.warn(text);
      else if (n >= 30) host.info(text);
      else host.debug?.(text);
    },
  };
  return createLogger({ level, destination });
}
