import { crc32, deflateSync } from "node:zlib";

/**
 * Media files the simulator serves from a step's `media`. Each is the smallest file a sniffer accepts as its
 * type: the images decode (1x1), the videos are only the container headers (no track to play), and `html` is
 * the kind of page a misconfigured bucket or a login wall answers with instead of media.
 */
export const MEDIA_KINDS = ["png", "jpeg", "webp", "gif", "mp4", "webm", "html"] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export const MEDIA_CONTENT_TYPES: Readonly<Record<MediaKind, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  mp4: "video/mp4",
  webm: "video/webm",
  html: "text/html; charset=utf-8",
};

/** One PNG chunk: length, type, data, and the CRC-32 of type and data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A 1x1 RGBA PNG (one opaque orange pixel), so `{{imageB64}}` decodes as a real image. */
function png(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, RGBA, deflate, adaptive filtering, no interlace
  const scanline = Buffer.from([0, 0xff, 0x88, 0x00, 0xff]); // filter type 0, then the pixel
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(scanline)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** One JPEG marker segment: the marker, then a length that counts itself but not the marker. */
function jpegSegment(marker: number, data: number[]): Buffer {
  return Buffer.from([0xff, marker, (data.length + 2) >> 8, (data.length + 2) & 0xff, ...data]);
}

/**
 * A 1x1 grey baseline JPEG. Each Huffman table holds a single one-bit code, so the whole scan is the DC
 * "no difference" code and the AC end-of-block code: two 0 bits, padded with 1 bits to 0x3f.
 */
function jpeg(): Buffer {
  const oneCodeTable = (tableClass: number) => [tableClass, 1, ...Array<number>(15).fill(0), 0x00];
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    jpegSegment(0xe0, [...Buffer.from("JFIF\0", "latin1"), 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    jpegSegment(0xdb, [0x00, ...Array<number>(64).fill(1)]),
    jpegSegment(0xc0, [8, 0, 1, 0, 1, 1, 1, 0x11, 0]),
    jpegSegment(0xc4, oneCodeTable(0x00)),
    jpegSegment(0xc4, oneCodeTable(0x10)),
    jpegSegment(0xda, [1, 1, 0x00, 0, 63, 0]),
    Buffer.from([0x3f, 0xff, 0xd9]),
  ]);
}

/** An ISO BMFF box: 32-bit size, four-character type, payload. */
function mp4Box(type: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32BE(8 + payload.length);
  return Buffer.concat([size, Buffer.from(type, "latin1"), payload]);
}

function mp4(): Buffer {
  const brands = Buffer.concat([
    Buffer.from("isom", "latin1"),
    Buffer.from([0, 0, 2, 0]), // minor version 512, as ffmpeg writes it
    Buffer.from("isomiso2mp41", "latin1"),
  ]);
  return Buffer.concat([mp4Box("ftyp", brands), mp4Box("free"), mp4Box("mdat")]);
}

/** An EBML header declaring DocType "webm", then an empty Segment: what players and sniffers look at first. */
function webm(): Buffer {
  const element = (id: number[], data: number[]) => [...id, 0x80 | data.length, ...data];
  const header = [
    ...element([0x42, 0x86], [1]), // EBMLVersion
    ...element([0x42, 0xf7], [1]), // EBMLReadVersion
    ...element([0x42, 0xf2], [4]), // EBMLMaxIDLength
    ...element([0x42, 0xf3], [8]), // EBMLMaxSizeLength
    ...element([0x42, 0x82], [...Buffer.from("webm", "latin1")]), // DocType
    ...element([0x42, 0x87], [2]), // DocTypeVersion
    ...element([0x42, 0x85], [2]), // DocTypeReadVersion
  ];
  return Buffer.from([
    ...element([0x1a, 0x45, 0xdf, 0xa3], header),
    ...element([0x18, 0x53, 0x80, 0x67], []),
  ]);
}

const HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in to continue</h1><p>This object is not public.</p></body>
</html>
`;

const MEDIA: Readonly<Record<MediaKind, Buffer>> = {
  png: png(),
  jpeg: jpeg(),
  // Lossless 1x1, the bytes browsers' WebP feature tests decode.
  webp: Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64"),
  // The classic 1x1 transparent GIF89a.
  gif: Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64"),
  mp4: mp4(),
  webm: webm(),
  html: Buffer.from(HTML, "utf8"),
};

/** The bytes the simulator sends for `media: kind` (before any `padBytes`); a copy, free to modify. */
export function mediaBytes(kind: MediaKind): Buffer {
  return Buffer.from(MEDIA[kind]);
}

/** What `{{imageB64}}` stands for: the `png` media, base64-encoded. */
export const IMAGE_B64: string = MEDIA.png.toString("base64");
