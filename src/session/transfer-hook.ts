import { execFile } from "node:child_process";
import { scrubbedLine } from "../secrets/scrubber.ts";

/** What the host's object-storage hook is given: the saved file and what it is. */
export interface SavedFile {
  path: string;
  capability: "image" | "video";
  mime: string;
  bytes: number;
  sha256: string;
  model: string;
  taskId: string | null;
}

/**
 * "Transfer into your object storage" (the quickstart's advice for links that expire): called once per saved
 * file. It may return where the file went; a throw is recorded as a failed transfer, never a failed check.
 */
export type TransferHook = (file: SavedFile) => Promise<{ location?: string } | undefined>;

export type TransferResult = { status: "ok" | "failed"; location?: string; message?: string };

export async function runTransferHook(hook: TransferHook, file: SavedFile): Promise<TransferResult> {
  try {
    const result = await hook(file);
    return result?.location
      ? { status: "ok", location: scrubbedLine(result.location, 500) }
      : { status: "ok" };
  } catch (err) {
    return { status: "failed", message: scrubbedLine(err instanceof Error ? err.message : String(err), 500) };
  }
}

/**
 * The hook as a command (config `multimodal.transferCommand`, CLI `--transfer-command`): argv run without a
 * shell, the file's path appended, its details also in TOKENHUB_MEDIA_* variables. The command gets this
 * process's environment minus TOKENHUB_API_KEY: uploading a file needs storage credentials, never TokenHub's.
 * The first line it prints is recorded as the location.
 */
export function commandTransferHook(
  argv: readonly string[],
  options: { timeoutMs: number; env?: Readonly<Record<string, string | undefined>> },
): TransferHook {
  const [command, ...args] = argv;
  if (!command) throw new Error("the transfer command is empty");
  return (file) =>
    new Promise((resolve, reject) => {
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.env ?? process.env)) {
        if (value !== undefined && name !== "TOKENHUB_API_KEY") env[name] = value;
      }
      Object.assign(env, {
        TOKENHUB_MEDIA_FILE: file.path,
        TOKENHUB_MEDIA_KIND: file.capability,
        TOKENHUB_MEDIA_MIME: file.mime,
        TOKENHUB_MEDIA_SHA256: file.sha256,
      });
      execFile(
        command,
        [...args, file.path],
        { env, timeout: options.timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true },
        (err, stdout, stderr) => {
          if (err) {
            const why = String(stderr).trim().split("\n").at(-1) || err.message;
            reject(new Error(`the transfer command failed (${describeExit(err)}): ${why}`));
            return;
          }
          const location = String(stdout).trim().split("\n")[0]?.trim();
          resolve(location ? { location } : undefined);
        },
      );
    });
}

function describeExit(err: { code?: unknown; killed?: boolean; signal?: string | null }): string {
  if (err.code === "ENOENT") return "command not found";
  if (err.killed) return "timed out";
  if (typeof err.code === "number") return `exit ${err.code}`;
  return err.signal ? `signal ${err.signal}` : String(err.code ?? "error");
}
