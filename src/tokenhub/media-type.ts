/**
 * What a downloaded file really is, judged by its first bytes. The Content-Type header of a signed storage link
 * is whatever the uploader set (often application/octet-stream) and an expired link answers with an HTML or XML
 * page, so the bytes decide; the header can only refuse.
 */

export type MediaKind = "image" | "video";

export interface SniffedMedia {
  kind: MediaKind;
  mime: string;
  /** Without the dot; the saved file gets this extension, never one taken from the URL. */
  ext: string;
}

/**
 * Every type below is recognised from at most this many bytes. More may be passed (and is used to tell
 * Matroska from WebM), fewer is fine for formats with shorter signatures.
 */
export const SNIFF_BYTES = 16;

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const EBML = [0x1a, 0x45, 0xdf, 0xa3];

/**
 * ISO base media files all start with an `ftyp` box; its major brand says what is inside. HEIF/AVIF stills
 * and MPEG-4 audio share the container with video, and must not pass as a video.
 */
const IMAGE_BRANDS: Record<string, { mime: string; ext: string }> = {
  avif: { mime: "image/avif", ext: "avif" },
  avis: { mime: "image/avif", ext: "avif" },
  heic: { mime: "image/heic", ext: "heic" },
  heix: { mime: "image/heic", ext: "heic" },
  heim: { mime: "image/heic", ext: "heic" },
  heis: { mime: "image/heic", ext: "heic" },
  mif1: { mime: "image/heif", ext: "heif" },
  msf1: { mime: "image/heif", ext: "heif" },
};
const AUDIO_BRANDS = new Set(["M4A ", "M4B ", "M4P ", "F4A ", "F4B "]);

export function sniffMediaType(bytes: Uint8Array): SniffedMedia | undefined {
  if (startsWith(bytes, PNG)) return { kind: "image", mime: "image/png", ext: "png" };
  if (startsWith(bytes, JPEG)) return { kind: "image", mime: "image/jpeg", ext: "jpg" };
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") {
    return { kind: "image", mime: "image/gif", ext: "gif" };
  }
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") {
    return { kind: "image", mime: "image/webp", ext: "webp" };
  }
  if (isBmp(bytes)) return { kind: "image", mime: "image/bmp", ext: "bmp" };
  if (ascii(bytes, 4, 4) === "ftyp" && bytes.length >= 12) return isoMedia(ascii(bytes, 8, 4));
  if (startsWith(bytes, EBML)) {
    // The DocType sits past the 16 bytes most callers pass; without it WebM, by far the likelier, is assumed.
    return ascii(bytes, 0, Math.min(bytes.length, 64)).includes("matroska")
      ? { kind: "video", mime: "video/x-matroska", ext: "mkv" }
      : { kind: "video", mime: "video/webm", ext: "webm" };
  }
  return undefined;
}

function isoMedia(brand: string): SniffedMedia | undefined {
  const image = IMAGE_BRANDS[brand];
  if (image) return { kind: "image", ...image };
  if (AUDIO_BRANDS.has(brand)) return undefined;
  if (brand === "qt  ") return { kind: "video", mime: "video/quicktime", ext: "mov" };
  if (brand.startsWith("3g")) return { kind: "video", mime: "video/3gpp", ext: "3gp" };
  return { kind: "video", mime: "video/mp4", ext: "mp4" };
}

/**
 * "BM" alone starts plenty of text, so the header's reserved words (always zero) and a plausible pixel-data
 * offset (past the 14-byte file header and the smallest 12-byte DIB header) are required as well.
 */
function isBmp(bytes: Uint8Array): boolean {
  if (bytes.length < 14 || ascii(bytes, 0, 2) !== "BM") return false;
  if (bytes[6] !== 0 || bytes[7] !== 0 || bytes[8] !== 0 || bytes[9] !== 0) return false;
  const offset = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(10, true);
  return offset >= 26 && offset < 1 << 24;
}

/**
 * What a non-media body looks like, for an error message: an expired link usually answers with an HTML page
 * or an XML/JSON error, and saying so points at the cause faster than "unrecognised bytes".
 */
export function describeUnknownBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return "an empty body";
  const text = ascii(bytes, 0, Math.min(bytes.length, 256))
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, "")
    .trimStart()
    .toLowerCase();
  if (text.startsWith("<!doctype html") || /^<(html|head|body)\b/.test(text)) return "text/html";
  if (text.startsWith("<svg") || (text.startsWith("<?xml") && text.includes("<svg"))) return "image/svg+xml";
  if (text.startsWith("<?xml") || /^<[a-z]/.test(text)) return "XML";
  if (/^[{[]/.test(text)) return "JSON";
  return "unrecognised bytes";
}

/**
 * Whether a Content-Type header may hold this kind of media. Object storage commonly labels everything
 * application/octet-stream (or the non-standard binary/octet-stream), and some servers send no type at all:
 * those pass, and the first bytes decide.
 */
export function contentTypeAllowed(header: string | undefined, kind: MediaKind): boolean {
  const type = mediaTypeOf(header);
  if (type === "" || type === "application/octet-stream" || type === "binary/octet-stream") return true;
  return type.startsWith(`${kind}/`) && type.length > kind.length + 1;
}

/** The `type/subtype` of a Content-Type header, lower-cased, without parameters; "" when absent. */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (bytes.length < start + length) return "";
  return String.fromCharCode(...bytes.subarray(start, start + length));
}
