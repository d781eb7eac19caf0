import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { format, inspect } from "node:util";
import { KeyFormatError, TokenHubSetupError } from "../../src/errors.ts";
import { describeSource, fingerprintOf, parseKey, SecretKey } from "../../src/secrets/key.ts";
import { REDACTED, scrub } from "../../src/secrets/scrubber.ts";

function freshKey(): string {
  return `sk-th-${randomBytes(12).toString("hex")}`;
}

/** Runs parseKey expecting a KeyFormatError with `code`, and checks that nothing about it holds the key. */
function refused(raw: string, code: string, needle: string = raw.trim()): KeyFormatError {
  let caught: unknown;
  try {
    parseKey(raw, "env");
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KeyFormatError, `expected KeyFormatError, got ${String(caught)}`);
  assert.ok(caught instanceof TokenHubSetupError);
  assert.equal(caught.code, code);
  assert.equal(caught.name, "KeyFormatError");
  assert.ok(caught.remedy.length > 0);
  if (needle.length > 0) {
    for (const text of [
      caught.message,
      caught.remedy,
      caught.stack ?? "",
      caught.toLine(),
      inspect(caught),
    ]) {
      assert.ok(!text.includes(needle), `the key leaked into: ${text.slice(0, 200)}`);
    }
  }
  assert.ok(caught.message.includes("TOKENHUB_API_KEY"), "says where the key came from");
  return caught;
}

describe("parseKey", () => {
  it("trims surrounding whitespace and keeps the source", () => {
    const key = freshKey();
    const parsed = parseKey(`  \t${key}\r\n `, "keychain");
    assert.ok(parsed instanceof SecretKey);
    assert.equal(parsed.reveal(), key);
    assert.equal(parsed.source, "keychain");
  });

  it("registers the key with the scrubber", () => {
    const key = freshKey();
    parseKey(key, "event");
    assert.equal(scrub(`x ${key} x`), `x ${REDACTED} x`);
  });

  it("accepts every printable ASCII character", () => {
    const key = `${freshKey()}!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;
    assert.equal(parseKey(key, "env").reveal(), key);
  });

  it("refuses a $-brace reference a host passed on unfilled, naming the variable (a key with one inside is a key)", () => {
    // Built, not written: a literal one reads as a template string gone wrong.
    const reference = (name: string) => ["$", "{", name, "}"].join("");
    const unfilled = reference("TOKENHUB_E2E_KEY");
    assert.throws(
      () => parseKey(unfilled, "env"),
      (err: unknown) =>
        err instanceof KeyFormatError &&
        err.code === "key_unresolved_reference" &&
        err.message.includes(unfilled) &&
        err.remedy.includes("Set TOKENHUB_E2E_KEY"),
    );
    assert.throws(
      () => parseKey(["$", "{", "TOKENHUB_E2E_KEY:-sk-fallback}"].join(""), "env"),
      /TOKENHUB_E2E_KEY/,
    );
    // Not a secret: the variable's name stays readable in every later message.
    assert.equal(scrub(`see ${unfilled}`), `see ${unfilled}`);
    const inside = `sk-ab${reference("NOT_A_REF")}cd0123456789`;
    assert.equal(parseKey(inside, "env").reveal(), inside);
  });

  it("refuses an empty or blank key", () => {
    refused("", "key_empty");
    refused("   \t\n ", "key_empty");
  });

  it("refuses whitespace inside the key", () => {
    const key = freshKey();
    refused(`${key.slice(0, 10)} ${key.slice(10)}`, "key_whitespace");
    refused(`${key.slice(0, 10)}\u00a0${key.slice(10)}`, "key_whitespace");
    refused(`${key.slice(0, 10)}\u2028${key.slice(10)}`, "key_whitespace");
  });

  for (const [label, ch] of [
    ["NUL", "\u0000"],
    ["ESC", "\u001b"],
    ["DEL", "\u007f"],
    ["NEL", "\u0085"],
    ["tab", "\t"],
    ["newline", "\n"],
  ] as const) {
    it(`refuses a ${label} control character inside the key`, () => {
      const key = freshKey();
      refused(`${key.slice(0, 8)}${ch}${key.slice(8)}`, "key_control_chars");
    });
  }

  it("refuses a terminal escape sequence pasted with the key", () => {
    const key = freshKey();
    refused(`\u001b[200~${key}\u001b[201~`, "key_control_chars");
  });

  for (const [label, ch] of [
    ["an accented letter", "é"],
    ["a left smart quote", "\u201c"],
    ["a right smart quote", "\u2019"],
    ["a Cyrillic look-alike", "а"],
    ["a lone surrogate", "\ud800"],
    ["an emoji", "🔑"],
  ] as const) {
    it(`refuses ${label} as not ASCII`, () => {
      const key = freshKey();
      refused(`${key.slice(0, 8)}${ch}${key.slice(8)}`, "key_not_ascii");
    });
  }

  it("refuses a key longer than 4096 characters, and takes one of exactly 4096", () => {
    const long = `sk-${randomBytes(2100).toString("hex")}`.slice(0, 4097);
    refused(long, "key_too_long");
    assert.equal(parseKey(long.slice(0, 4096), "env").reveal().length, 4096);
  });

  it("refuses keys too short to protect without redacting our own words (1-15 characters), before anything is sent", () => {
    const sixteen = "Qz7#kW2xP9$mR4tV";
    for (let length = 1; length < 16; length++) {
      const err = refused(sixteen.slice(0, length), "key_too_short");
      assert.match(err.message, /shorter than 16 characters/);
    }
    // Words the flow prints, pasted as a key by mistake (an outside review did): refused, not scrubbed everywhere.
    for (const word of ["complete", "Integration", "deepseek-v3.2"]) refused(word, "key_too_short");
    assert.equal(parseKey(sixteen, "env").reveal(), sixteen, "sixteen characters are enough");
  });

  it("registers even a refused key, so a later message cannot leak it", () => {
    const key = `${freshKey()} half`;
    refused(key, "key_whitespace");
    assert.equal(scrub(`pasted: ${key}`), `pasted: ${REDACTED}`);
  });

  it("names the source in its messages", () => {
    assert.equal(describeSource("env"), "TOKENHUB_API_KEY");
    assert.match(describeSource("keychain"), /keychain/);
    assert.match(describeSource("host"), /host/);
    assert.match(describeSource("event"), /host/);
    assert.throws(
      () => parseKey("", "keychain"),
      (err: unknown) => err instanceof KeyFormatError && /keychain/.test(err.message),
    );
  });
});

describe("SecretKey", () => {
  it("prints [redacted] however it is turned into text", () => {
    const value = freshKey();
    const key = parseKey(value, "env");
    const renderings = [
      JSON.stringify(key),
      JSON.stringify({ key, nested: { list: [key] } }),
      String(key),
      `${key}`,
      // biome-ignore lint/style/useTemplate: concatenation takes another conversion path than a template
      "" + key,
      inspect(key),
      inspect({ a: { b: { c: key } } }, { depth: 10 }),
      inspect(key, { showHidden: true, customInspect: false }),
      inspect([key], { showHidden: true, depth: Infinity }),
      format("%o", key),
      format("%O", { key }),
      format("%j", { key }),
      format("%s", key),
      format("%s", { key }),
      format("key=", key),
    ];
    for (const text of renderings) {
      assert.ok(!text.includes(value), `leaked: ${text}`);
    }
    assert.equal(JSON.stringify(key), `"${REDACTED}"`);
    assert.equal(String(key), REDACTED);
    assert.equal(`${key}`, REDACTED);
    assert.match(inspect(key), /\[redacted\]/);
    assert.match(inspect({ key }), /\[redacted\]/);
    assert.match(format("%o", { key }), /\[redacted\]/);
    assert.equal(format("%j", { key }), `{"key":"${REDACTED}"}`);
  });

  it("does not expose the value through enumerable properties, spread or structuredClone", () => {
    const value = freshKey();
    const key = parseKey(value, "host");
    assert.ok(!JSON.stringify(Object.entries(key)).includes(value));
    assert.ok(!JSON.stringify({ ...key }).includes(value));
    assert.ok(!inspect(structuredClone(key)).includes(value));
  });

  it("reveal() returns the value", () => {
    const value = freshKey();
    assert.equal(new SecretKey(value, "event").reveal(), value);
  });

  it("has a 12-hex-character fingerprint that is stable and differs between keys", () => {
    const value = freshKey();
    const a = parseKey(value, "env");
    const b = parseKey(` ${value} `, "keychain");
    const c = parseKey(freshKey(), "env");
    assert.match(a.fingerprint, /^[0-9a-f]{12}$/);
    assert.equal(a.fingerprint, b.fingerprint, "same key, same fingerprint, whatever the source");
    assert.equal(a.fingerprint, fingerprintOf(value));
    assert.notEqual(a.fingerprint, c.fingerprint);
    assert.ok(!value.includes(a.fingerprint));
  });
});
