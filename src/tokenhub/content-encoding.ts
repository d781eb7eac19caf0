import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

/** The inflater for a `content-encoding` (already trimmed and lower-cased); undefined when it is not one we read. */
export function inflaterFor(encoding: string): Transform | undefined {
  if (encoding === "gzip" || encoding === "x-gzip") return createGunzip();
  if (encoding === "deflate") return createInflate();
  if (encoding === "br") return createBrotliDecompress();
  return undefined;
}

/**
 * The body's bytes through `inflater`. `pipeline` owns both streams: a network error reaches the inflater, a
 * zlib error or an early stop by the reader (a size cap was hit) destroys the body, so an abandoned gzip bomb
 * neither keeps inflating nor keeps downloading, and nothing is left waiting on a 'drain'. The first error of
 * either stream is also the inflater's, so the reader sees it.
 */
export async function* inflated(body: Readable, inflater: Transform): AsyncIterable<Buffer> {
  const piping = pipeline(body, inflater).catch(() => {});
  try {
    yield* inflater as AsyncIterable<Buffer>;
  } finally {
    inflater.destroy();
    body.destroy();
    await piping;
  }
}

/** zlib's own errors, the ones that mean "the encoding lied": Z_DATA_ERROR, Z_BUF_ERROR, brotli's formats. */
export function isDecodeError(err: unknown): boolean {
  return /^(Z_|ERR__ERROR_|ERR_BROTLI|ERR_ZLIB)/.test((err as NodeJS.ErrnoException | null)?.code ?? "");
}
