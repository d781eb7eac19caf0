import { constants } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Why a state file was not read, as a Node-style code beside the system's own (ENOENT, EACCES): the callers
 * already speak those, and turn them into their typed errors.
 */
export type StateFileRefusal = "ENOTREG" | "EFBIG";

/**
 * The text of one of our small state files (the record, its note, a conversation's snapshot, the wiring record),
 * refused unless it is a regular file of at most `maxBytes`. Anyone who can write the state folder can put a FIFO
 * there (a plain read would wait for a writer forever, hanging `status` and the host's model list with it), a
 * device, or a file of gigabytes (read whole into memory). Opened non-blocking, so a FIFO is refused, not waited
 * on; the size is the opened file's, so a swap between a check and the read changes nothing.
 */
export async function readStateFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refusal("ENOTREG", `${path} is not a regular file`);
    if (info.size > maxBytes)
      throw refusal("EFBIG", `${path} is ${info.size} bytes, more than ${maxBytes}`, info.size);
    // Read past the size the stat gave: a file growing meanwhile is cut at the bound, not read without end.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes)
      throw refusal("EFBIG", `${path} grew past ${maxBytes} bytes while being read`, length);
    return buffer.toString("utf8", 0, length);
  } finally {
    await handle.close();
  }
}

/** The error, with the size seen for EFBIG (callers name it). */
function refusal(
  code: StateFileRefusal,
  message: string,
  size?: number,
): NodeJS.ErrnoException & { size?: number } {
  return Object.assign(new Error(message), { code, ...(size === undefined ? {} : { size }) });
}
