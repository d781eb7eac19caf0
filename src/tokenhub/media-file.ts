/**
 * Where a downloaded (or inline) media file lands: written to a temp file beside its final name, fsynced, then
 * published under the first free name without ever replacing a file, and temps a killed download left swept.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, link, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { TokenHubSetupError } from "../errors.ts";
import { sweepStaleTemps, syncDirectory } from "../status/temp-files.ts";

export type MediaErrorCode =
  | "media_url_refused"
  | "media_redirects"
  | "media_http_error"
  | "media_too_large"
  | "media_wrong_type"
  | "media_empty"
  | "media_network"
  | "media_write_failed";

export class MediaError extends TokenHubSetupError {
  constructor(code: MediaErrorCode, message: string, options: { remedy: string; cause?: unknown }) {
    super(code, message, options);
  }
}

const MAX_NAME_SUFFIX = 999;

export interface TempFile {
  write(data: Uint8Array): Promise<void>;
  /** fsync, then link under the first free name; returns the final path. */
  commit(ext: string): Promise<string>;
  discard(): Promise<void>;
}

/**
 * A temp file beside the target (same filesystem, so publishing it is atomic), named like writeFileAtomic's
 * temps: a leading dot, the writer's pid and a random part, `.tmp`.
 */
export async function createTemp(dir: string, safeBase: string): Promise<TempFile> {
  const path = join(dir, `.${safeBase}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle | undefined;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    handle = await open(path, "wx", 0o600);
  } catch (err) {
    throw writeFailed(dir, err);
  }
  const opened = handle;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await opened.close();
  };
  return {
    async write(data) {
      try {
        await opened.write(data);
      } catch (err) {
        throw writeFailed(dir, err);
      }
    },
    async commit(ext) {
      try {
        await opened.sync();
        await close();
        const final = await publish(path, dir, safeBase, ext);
        await syncDirectory(dir);
        await sweepStaleDownloads(dir);
        return final;
      } catch (err) {
        throw err instanceof MediaError ? err : writeFailed(dir, err);
      }
    },
    async discard() {
      await close().catch(() => {});
      await rm(path, { force: true }).catch(() => {});
    },
  };
}

/** Filesystems without hard links (FAT, some network and FUSE mounts). */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"]);

/**
 * Never replaces an existing file, whoever creates one meanwhile: `link` fails with EEXIST where `rename` would
 * overwrite. Where hard links are unsupported the name is first claimed with an exclusive create, then the temp
 * renamed onto that claim (briefly an empty file, never someone else's).
 */
async function publish(temp: string, dir: string, safeBase: string, ext: string): Promise<string> {
  let useLinks = true;
  for (let n = 0; n <= MAX_NAME_SUFFIX; n++) {
    const target = join(dir, n === 0 ? `${safeBase}.${ext}` : `${safeBase}-${n}.${ext}`);
    try {
      if (useLinks) {
        await link(temp, target);
        await rm(temp, { force: true });
      } else {
        await (await open(target, "wx", 0o600)).close();
        await rename(temp, target);
      }
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (code === "EEXIST") continue;
      if (useLinks && NO_LINKS.has(code)) {
        useLinks = false;
        n--;
        continue;
      }
      throw err;
    }
  }
  throw new MediaError(
    "media_write_failed",
    `Could not save the media in ${dir}: ${safeBase}.${ext} and ${MAX_NAME_SUFFIX} numbered variants exist.`,
    { remedy: "Move or delete older media files from that folder." },
  );
}

/** Temp names: `.<base>.<pid>.<12 hex>.tmp`; the pid says whose it is (see sweepStaleTemps). */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * A download killed mid-body leaves its temp file, possibly hundreds of megabytes: swept once per folder.
 */
function sweepStaleDownloads(dir: string): Promise<void> {
  return sweepStaleTemps(dir, `media:${dir}`, (name) => {
    const pid = TEMP_NAME.exec(name)?.[1];
    return pid === undefined ? undefined : Number(pid);
  });
}

function writeFailed(dir: string, err: unknown): MediaError {
  const e = err as NodeJS.ErrnoException;
  return new MediaError(
    "media_write_failed",
    `Could not save the media in ${dir}: ${e.code ?? "error"} (${String(e.message ?? err).slice(0, 200)}).`,
    { remedy: "Check that the folder is writable and the disk has free space.", cause: err },
  );
}
