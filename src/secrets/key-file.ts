import { lstat, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { TokenHubSetupError } from "../errors.ts";
import { writeFileAtomic } from "../status/atomic-write.ts";

/**
 * The plaintext key file: only where no OS keychain works, only when a person asks for it with
 * `key set --insecure-storage` (as `gh auth login --insecure-storage` does), and never written silently.
 * Mode 0600 in a 0700 folder; a file that others can read is refused, as ssh refuses such a private key.
 */
export function keyFilePath(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_CONFIG_HOME;
  // As the XDG spec says: a relative value is invalid and ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return join(base, "tokenhub-setup", "api-key");
}

export class KeyFileError extends TokenHubSetupError {}

/** The file's text, or undefined when there is none. Refuses a file group or others can read, or a link. */
export async function readKeyFile(path: string): Promise<string | undefined> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new KeyFileError("key_file_unreadable", `The key file ${path} could not be read.`, {
      remedy: "Check its permissions, or remove it with `tokenhub-setup key clear`.",
      cause: err,
    });
  }
  if (!info.isFile()) {
    throw new KeyFileError("key_file_not_file", `The key file ${path} is not a plain file.`, {
      remedy: "Remove it and store the key again with `tokenhub-setup key set --insecure-storage`.",
    });
  }
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new KeyFileError(
      "key_file_too_open",
      `The key file ${path} can be read by others (mode ${(info.mode & 0o777).toString(8)}), so it is not used.`,
      {
        remedy: `Run \`chmod 600 ${path}\`, or store the key again with \`tokenhub-setup key set --insecure-storage\`.`,
      },
    );
  }
  return readFile(path, "utf8");
}

export async function writeKeyFile(path: string, key: string): Promise<void> {
  await writeFileAtomic(path, `${key}\n`);
}

/** True when a file was removed. */
export async function removeKeyFile(path: string): Promise<boolean> {
  try {
    await lstat(path);
  } catch {
    return false;
  }
  await rm(path, { force: true });
  return true;
}
