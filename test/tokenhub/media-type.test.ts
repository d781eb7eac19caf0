import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  contentTypeAllowed,
  describeUnknownBytes,
  mediaTypeOf,
  SNIFF_BYTES,
  sniffMediaType,
} from "../../src/tokenhub/media-type.ts";

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...Buffer.from(p, "latin1")] : p)));
const pad = (head: Uint8Array, length = 32) => {
  const out = new Uint8Array(Math.max(length, head.length));
  out.set(head);
  return out;
};
/** An ISO base media `ftyp` box with the given major brand. */
const ftyp = (brand: string) => bytes([0, 0, 0, 0x18], "ftyp", brand, [0, 0, 2, 0]);
/** A BMP file header: "BM", file size, two reserved zero words, pixel data offset 54. */
const bmp = () => bytes("BM", [0x46, 0, 0, 0], [0, 0, 0, 0], [54, 0, 0, 0]);

const SAMPLES = {
  png: bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 0x0d], "IHDR"),
  jpeg: bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], "JFIF", [0]),
  gif87: bytes("GIF87a", [1, 0, 1, 0, 0x80, 0, 0]),
  gif89: bytes("GIF89a", [1, 0, 1, 0, 0x80, 0, 0]),
  webp: bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8 "),
  mp4: ftyp("isom"),
  mov: ftyp("qt  "),
  webm: bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1, 0x42, 0xf7, 0x81, 1, 0x42, 0xf2, 0x81]),
};

describe("sniffMediaType", () => {
  const cases: [string, Uint8Array, { kind: string; mime: string; ext: string }][] = [
    ["PNG", SAMPLES.png, { kind: "image", mime: "image/png", ext: "png" }],
    ["JPEG", SAMPLES.jpeg, { kind: "image", mime: "image/jpeg", ext: "jpg" }],
    ["GIF87a", SAMPLES.gif87, { kind: "image", mime: "image/gif", ext: "gif" }],
    ["GIF89a", SAMPLES.gif89, { kind: "image", mime: "image/gif", ext: "gif" }],
    ["WebP", SAMPLES.webp, { kind: "image", mime: "image/webp", ext: "webp" }],
    ["BMP", bmp(), { kind: "image", mime: "image/bmp", ext: "bmp" }],
    ["MP4 (isom)", SAMPLES.mp4, { kind: "video", mime: "video/mp4", ext: "mp4" }],
    ["MP4 (mp42)", ftyp("mp42"), { kind: "video", mime: "video/mp4", ext: "mp4" }],
    ["MOV (qt  )", SAMPLES.mov, { kind: "video", mime: "video/quicktime", ext: "mov" }],
    ["3GP", ftyp("3gp5"), { kind: "video", mime: "video/3gpp", ext: "3gp" }],
    ["AVIF", ftyp("avif"), { kind: "image", mime: "image/avif", ext: "avif" }],
    ["HEIC", ftyp("heic"), { kind: "image", mime: "image/heic", ext: "heic" }],
    ["WebM", SAMPLES.webm, { kind: "video", mime: "video/webm", ext: "webm" }],
  ];
  for (const [name, sample, expected] of cases) {
    it(`recognises ${name} from its first ${SNIFF_BYTES} bytes`, () => {
      assert.ok(sample.length <= SNIFF_BYTES, `${name} sample is ${sample.length} bytes`);
      assert.deepEqual(sniffMediaType(sample), expected);
    });
    it(`recognises ${name} followed by more data`, () => {
      assert.deepEqual(sniffMediaType(pad(sample, 4096)), expected);
    });
  }

  it("tells Matroska from WebM when the DocType is among the bytes given", () => {
    const mkv = bytes([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 1], [0x42, 0x82, 0x88], "matroska");
    assert.deepEqual(sniffMediaType(mkv), { kind: "video", mime: "video/x-matroska", ext: "mkv" });
    const webm = bytes([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 1], [0x42, 0x82, 0x84], "webm");
    assert.equal(sniffMediaType(webm)?.mime, "video/webm");
  });

  it("does not take MPEG-4 audio for a video", () => {
    assert.equal(sniffMediaType(ftyp("M4A ")), undefined);
  });

  it("needs the RIFF form type to be WEBP (WAV and AVI are not images)", () => {
    assert.equal(sniffMediaType(bytes("RIFF", [0x24, 0, 0, 0], "WAVEfmt ")), undefined);
    assert.equal(sniffMediaType(bytes("RIFF", [0x24, 0, 0, 0], "AVI LIST")), undefined);
  });

  it("does not take text that starts with BM for a bitmap", () => {
    assert.equal(sniffMediaType(Buffer.from("BMW is a car maker, not a bitmap.")), undefined);
  });

  it("recognises nothing in non-media bodies", () => {
    for (const text of [
      "<!DOCTYPE html><html><body>Access denied</body></html>",
      "<html><head><title>404</title></head></html>",
      '<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>',
      '{"error":{"message":"expired"}}',
      "[1,2,3]",
      "OK",
      "GIF88a not a gif",
      "ftyp at the wrong offset",
    ]) {
      assert.equal(sniffMediaType(Buffer.from(text)), undefined, text);
    }
  });

  it("returns undefined for empty and truncated input, never throws", () => {
    assert.equal(sniffMediaType(new Uint8Array()), undefined);
    assert.equal(sniffMediaType(bytes([0x89, 0x50, 0x4e, 0x47])), undefined);
    assert.equal(sniffMediaType(bytes([0xff, 0xd8])), undefined);
    assert.equal(sniffMediaType(bytes("GIF8")), undefined);
    assert.equal(sniffMediaType(bytes("RIFF", [0, 0, 0, 0], "WEB")), undefined);
    assert.equal(sniffMediaType(bytes([0, 0, 0, 0x18], "ftyp")), undefined);
    assert.equal(sniffMediaType(bytes([0x1a, 0x45, 0xdf])), undefined);
    assert.equal(sniffMediaType(bytes("BM", [0, 0, 0, 0])), undefined);
    for (let n = 0; n < 16; n++) sniffMediaType(SAMPLES.png.subarray(0, n));
  });

  it("reads a view at its own offset, not its buffer's", () => {
    const backing = new Uint8Array(64);
    backing.set(bmp(), 10);
    assert.equal(sniffMediaType(backing.subarray(10))?.mime, "image/bmp");
    backing.set(SAMPLES.png, 40);
    assert.equal(sniffMediaType(backing.subarray(40))?.mime, "image/png");
  });
});

describe("describeUnknownBytes", () => {
  it("names what an error page looks like", () => {
    assert.equal(describeUnknownBytes(Buffer.from("  <!doctype html><html></html>")), "text/html");
    assert.equal(describeUnknownBytes(Buffer.from("\uFEFF<HTML><BODY>x</BODY></HTML>")), "text/html");
    assert.equal(describeUnknownBytes(Buffer.from('<?xml version="1.0"?><Error/>')), "XML");
    assert.equal(
      describeUnknownBytes(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>")),
      "image/svg+xml",
    );
    assert.equal(describeUnknownBytes(Buffer.from('{"error":"expired"}')), "JSON");
    assert.equal(describeUnknownBytes(Buffer.from([0, 1, 2, 3, 250])), "unrecognised bytes");
    assert.equal(describeUnknownBytes(new Uint8Array()), "an empty body");
  });
});

describe("contentTypeAllowed", () => {
  it("allows the matching family, with or without parameters and in any case", () => {
    assert.equal(contentTypeAllowed("image/png", "image"), true);
    assert.equal(contentTypeAllowed("IMAGE/JPEG; charset=binary", "image"), true);
    assert.equal(contentTypeAllowed("video/mp4", "video"), true);
    assert.equal(contentTypeAllowed(" video/webm ;codecs=vp9", "video"), true);
  });

  it("allows the generic binary types and an absent header: the bytes decide", () => {
    for (const kind of ["image", "video"] as const) {
      assert.equal(contentTypeAllowed(undefined, kind), true);
      assert.equal(contentTypeAllowed("", kind), true);
      assert.equal(contentTypeAllowed("application/octet-stream", kind), true);
      assert.equal(contentTypeAllowed("binary/octet-stream", kind), true);
    }
  });

  it("refuses the other family and everything textual", () => {
    assert.equal(contentTypeAllowed("video/mp4", "image"), false);
    assert.equal(contentTypeAllowed("image/png", "video"), false);
    for (const type of ["text/html; charset=utf-8", "application/json", "application/xml", "text/plain"]) {
      assert.equal(contentTypeAllowed(type, "image"), false, type);
      assert.equal(contentTypeAllowed(type, "video"), false, type);
    }
    assert.equal(contentTypeAllowed("image/", "image"), false);
    assert.equal(contentTypeAllowed("imagery/png", "image"), false);
  });

  it("mediaTypeOf strips parameters and lower-cases", () => {
    assert.equal(mediaTypeOf("Text/HTML; charset=UTF-8"), "text/html");
    assert.equal(mediaTypeOf(undefined), "");
  });
});
