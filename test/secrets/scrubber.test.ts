import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  forgetSecret,
  REDACTED,
  registerSecret,
  scrub,
  scrubDeep,
  scrubError,
} from "../../src/secrets/scrubber.ts";

/** Registering is process-wide, so every test uses its own key. */
function freshKey(prefix = "sk-th-"): string {
  return `${prefix}${randomBytes(12).toString("hex")}`;
}

function registered(prefix?: string): string {
  const key = freshKey(prefix);
  registerSecret(key);
  return key;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const b64url = (s: string) => Buffer.from(s, "utf8").toString("base64url");

describe("scrub", () => {
  it("removes a registered key from plain text, every occurrence", () => {
    const key = registered();
    const out = scrub(`Bearer ${key} and again ${key}.`);
    assert.equal(out, `Bearer ${REDACTED} and again ${REDACTED}.`);
  });

  it("leaves text without a key untouched", () => {
    registered();
    const text = "nothing to see here: sk-th-notakey";
    assert.equal(scrub(text), text);
  });

  it("removes the JSON-escaped form of a key holding quotes and backslashes", () => {
    const key = `${freshKey()}"q\\b`;
    registerSecret(key);
    const line = JSON.stringify({ msg: `sent ${key}` });
    assert.ok(line.includes('\\"q\\\\b'), "the line really holds the escaped form");
    const out = scrub(line);
    assert.ok(!out.includes(key));
    assert.ok(!out.includes(JSON.stringify(key).slice(1, -1)));
    assert.deepEqual(JSON.parse(out), { msg: `sent ${REDACTED}` });
  });

  it("removes a key JSON-escaped twice (a JSON body logged as a string field)", () => {
    const key = `${freshKey()}"q\\b`;
    registerSecret(key);
    const line = JSON.stringify({ body: JSON.stringify({ key }) });
    const out = scrub(line);
    assert.ok(!out.includes(JSON.stringify(JSON.stringify(key)).slice(1, -1)));
    assert.ok(out.includes(REDACTED));
  });

  it("removes URL-encoded forms: encodeURIComponent, form encoding and lowercase hex", () => {
    const key = `${freshKey()}/+= !'()~*`;
    registerSecret(key);
    const component = encodeURIComponent(key);
    const form = new URLSearchParams({ k: key }).toString().slice(2);
    assert.notEqual(component, form, "the two encodings differ for this key");
    for (const encoded of [component, form, component.toLowerCase()]) {
      const out = scrub(`https://example.test/?api_key=${encoded}&x=1`);
      assert.ok(!out.includes(encoded), `still holds ${encoded}`);
      assert.equal(out, `https://example.test/?api_key=${REDACTED}&x=1`);
    }
  });

  it("removes the key in base64 and base64url", () => {
    // Bytes chosen so that base64 and base64url differ ('+' and '/' vs '-' and '_').
    const key = `${freshKey()}>>>???~~~`;
    registerSecret(key);
    assert.notEqual(b64(key), b64url(key));
    assert.equal(scrub(`dump ${b64(key)} end`), `dump ${REDACTED} end`);
    assert.equal(scrub(`dump ${b64url(key)} end`), `dump ${REDACTED} end`);
  });

  it("removes the base64 of a key embedded at byte offsets 0, 1 and 2 of a longer base64 run", () => {
    // The tail makes base64 and base64url differ inside the run too.
    const key = `${freshKey()}>>>???~~~>>>???`;
    registerSecret(key);
    assert.ok(/[+/]/.test(b64(`user:${key}`)));
    // "" puts the key at offset 0 mod 3, "Bearer " (7 bytes) at 1, "user:" (5 bytes) at 2.
    for (const [prefix, encode] of [
      ["", b64],
      ["ab", b64],
      ["Bearer ", b64],
      ["user:", b64],
      ["xxx", b64],
      ["a", b64],
      ["Bearer ", b64url],
      ["user:", b64url],
    ] as const) {
      for (const suffix of ["", "!", "?x", " trailing bytes"]) {
        const encoded = encode(`${prefix}${key}${suffix}`);
        const out = scrub(`Authorization: Basic ${encoded}`);
        assert.ok(out.includes(REDACTED), `not scrubbed with prefix ${JSON.stringify(prefix)}`);
        // What is left around the marker is at most the partial groups at either edge (a few characters),
        // never enough to decode the key: the key's own base64 run is gone.
        const left = out.replace("Authorization: Basic ", "").replace(REDACTED, "");
        const prefixChars = Math.ceil(Buffer.byteLength(prefix) / 3) * 4;
        const suffixChars = Math.ceil((Buffer.byteLength(suffix) + 2) / 3) * 4;
        assert.ok(
          left.length <= prefixChars + suffixChars + 4,
          `too much left (${left.length}) for prefix ${JSON.stringify(prefix)}, suffix ${JSON.stringify(suffix)}`,
        );
      }
    }
  });

  it("treats regex-special characters in a key literally", () => {
    const key = `${freshKey()}.*+?^\${}()|[]\\`;
    registerSecret(key);
    assert.equal(scrub(`a ${key} b`), `a ${REDACTED} b`);
    assert.equal(scrub(JSON.stringify(key)), `"${REDACTED}"`);
    // A regex built from the key would match this; a literal match must not.
    const lookalike = key.replace(".*", "XYZ");
    assert.equal(scrub(`a ${lookalike} b`), `a ${lookalike} b`);
  });

  it("scrubs a key in any letter case: URL parsing lower-cases a host name that carries it", () => {
    const key = freshKey().replace(/[a-f]/g, (c) => c.toUpperCase());
    registerSecret(key);
    for (const changed of [key.toLowerCase(), key.toUpperCase(), new URL(`https://${key}.example/`).host])
      assert.equal(scrub(`x ${changed} y`).toLowerCase().includes(key.toLowerCase()), false, changed);
    assert.equal(scrub(`a ${key.toLowerCase()} b`), `a ${REDACTED} b`);
  });

  it("handles unicode keys in raw, JSON, URL and base64 forms", () => {
    const key = `${freshKey("ключ-")}-é-日本-🔑`;
    registerSecret(key);
    assert.equal(scrub(`x ${key} y`), `x ${REDACTED} y`);
    assert.equal(scrub(JSON.stringify({ k: key })), JSON.stringify({ k: REDACTED }));
    assert.equal(scrub(encodeURIComponent(key)), REDACTED);
    assert.equal(scrub(b64(key)), REDACTED);
    assert.ok(scrub(b64(`Bearer ${key}`)).includes(REDACTED));
  });

  it("does not throw on a key holding a lone surrogate", () => {
    const key = `${freshKey()}\ud800tail`;
    assert.doesNotThrow(() => registerSecret(key));
    assert.equal(scrub(`a ${key} b`), `a ${REDACTED} b`);
  });

  it("does not register strings shorter than 4 characters", () => {
    registerSecret("q7z");
    assert.equal(scrub("q7z appears here: q7z"), "q7z appears here: q7z");
    const four = `${randomBytes(2).toString("hex")}`;
    registerSecret(four);
    assert.equal(scrub(`x${four}x`), `x${REDACTED}x`);
    forgetSecret(four);
  });

  it("replaces a key that contains another registered key whole", () => {
    const inner = registered();
    const outer = `${inner}-and-more-${randomBytes(4).toString("hex")}`;
    registerSecret(outer);
    assert.equal(scrub(`[${outer}]`), `[${REDACTED}]`);
    assert.equal(scrub(`[${inner}]`), `[${REDACTED}]`);
  });

  it("keeps longest-first across its tiers: keys containing, or contained in, keys scrubbed before", () => {
    // A forget folds everything into the bulk tier at the next scrub; later keys go to the recent tier unless
    // they contain a bulk key or sit inside one.
    const old = registered();
    forgetSecret(registered());
    scrub("fold everything into the bulk tier now");
    const around = `${old}-around-${randomBytes(4).toString("hex")}`;
    const inside = old.slice(3, 15);
    registerSecret(around);
    registerSecret(inside);
    assert.equal(scrub(`<${around}>`), `<${REDACTED}>`);
    assert.equal(scrub(`<${old}>`), `<${REDACTED}>`);
    assert.equal(scrub(`<${inside}>`), `<${REDACTED}>`);
    // A key unrelated to the bulk, and one containing that recent key, both in the recent tier.
    const fresh = registered();
    const freshAround = `x${fresh}y`;
    registerSecret(freshAround);
    assert.equal(scrub(`(${freshAround}) (${fresh}) (${old})`), `(${REDACTED}) (${REDACTED}) (${REDACTED})`);
  });

  it("scrubs every key of many, registered between scrubs (the recent tier fills and is folded in)", () => {
    const keys: string[] = [];
    for (let i = 0; i < 60; i++) {
      keys.push(registered());
      // Each earlier key is still scrubbed after each registration, in every form.
      const probe = keys[Math.floor(Math.random() * keys.length)] as string;
      assert.equal(scrub(`a ${probe} b ${b64(probe)}`), `a ${REDACTED} b ${REDACTED}`);
    }
    const all = keys.join(" ");
    assert.equal(scrub(all), keys.map(() => REDACTED).join(" "));
  });

  it("forgetSecret stops scrubbing that key only", () => {
    const gone = registered();
    const kept = registered();
    registerSecret(gone); // registering twice is harmless
    forgetSecret(gone);
    assert.equal(scrub(`${gone} ${kept}`), `${gone} ${REDACTED}`);
    assert.equal(scrub(b64(gone)), b64(gone));
    forgetSecret("never-registered-value"); // no-op, no throw
    registerSecret(gone);
    assert.equal(scrub(gone), REDACTED);
  });

  it("scrubs text exactly as long as the shortest key, and a short key registered after long ones", () => {
    // scrub skips text shorter than every variant it knows; the bound must follow registrations and forgets.
    registered();
    const short = `k${randomBytes(2).toString("hex")}`; // 5 characters, shorter than any key before it
    assert.equal(scrub(short), short);
    registerSecret(short);
    assert.equal(scrub(short), REDACTED);
    assert.equal(scrub(short.toUpperCase()), REDACTED);
    assert.deepEqual(scrubDeep({ [short]: [short] }), { [REDACTED]: [REDACTED] });
    forgetSecret(short);
    assert.equal(scrub(short), short);
    const kept = registered();
    assert.equal(scrub(kept), REDACTED);
  });
});

describe("scrubDeep", () => {
  it("scrubs strings at any depth in objects and arrays without mutating the input", () => {
    const key = registered();
    const input = {
      a: key,
      list: [1, null, true, `x${key}x`, { deep: [{ deeper: { deepest: key } }] }],
      n: 42,
      u: undefined,
    };
    const before = structuredClone(input);
    const out = scrubDeep(input);
    assert.deepEqual(input, before, "input was mutated");
    assert.notEqual(out, input);
    assert.deepEqual(out, {
      a: REDACTED,
      list: [1, null, true, `x${REDACTED}x`, { deep: [{ deeper: { deepest: REDACTED } }] }],
      n: 42,
      u: undefined,
    });
  });

  it("scrubs keys used as property names", () => {
    const key = registered();
    const out = scrubDeep({ [key]: "value", nested: { [`h-${key}`]: 1 } });
    assert.deepEqual(out, { [REDACTED]: "value", nested: { [`h-${REDACTED}`]: 1 } });
    assert.ok(!JSON.stringify(out).includes(key));
  });

  it("keeps cycles as cycles in the copy and terminates", () => {
    const key = registered();
    const a: Record<string, unknown> = { secret: key };
    const b: Record<string, unknown> = { back: a, list: [] as unknown[] };
    a.child = b;
    (b.list as unknown[]).push(a, b);
    const out = scrubDeep(a) as Record<string, unknown>;
    assert.equal(out.secret, REDACTED);
    const child = out.child as Record<string, unknown>;
    assert.equal(child.back, out);
    assert.deepEqual((child.list as unknown[])[0], out);
    assert.equal((child.list as unknown[])[1], child);
    assert.equal(a.secret, key, "input untouched");
  });

  it("keeps a property named __proto__ as data instead of swapping the prototype", () => {
    const key = registered();
    const input = JSON.parse(`{"__proto__": {"k": "${key}"}, "x": 1}`) as Record<string, unknown>;
    const out = scrubDeep(input);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(JSON.stringify(out), `{"__proto__":{"k":"${REDACTED}"},"x":1}`);
  });

  it("uses toJSON where an object defines it, so it scrubs what JSON output would show", () => {
    const key = registered();
    const when = new Date("2025-01-02T03:04:05.000Z");
    const holder = { toJSON: () => ({ token: key }) };
    const out = scrubDeep({ when, holder });
    assert.equal(JSON.stringify(out), JSON.stringify({ when, holder: { token: REDACTED } }));
  });

  it("turns errors into scrubbed plain descriptions", () => {
    const key = registered();
    const out = scrubDeep({ failure: new Error(`bad key ${key}`) }) as { failure: { message: string } };
    assert.equal(out.failure.message, `bad key ${REDACTED}`);
    assert.ok(!JSON.stringify(out).includes(key));
  });

  it("scrubs a bare string", () => {
    const key = registered();
    assert.equal(scrubDeep(`k=${key}`), `k=${REDACTED}`);
  });
});

describe("scrubError", () => {
  it("scrubs message, stack, code and nested causes", () => {
    const key = registered();
    const root = Object.assign(new Error(`socket said ${key}`), { code: `E_${key}` });
    const middle = new Error(`retry with ${key}`, { cause: root });
    const top = new TypeError(`request failed for ${key}`, { cause: middle });
    assert.ok(top.stack?.includes(key), "the stack really holds the key");
    const out = scrubError(top);
    assert.equal(out.name, "TypeError");
    assert.equal(out.message, `request failed for ${REDACTED}`);
    assert.ok(out.stack?.includes(REDACTED));
    const text = JSON.stringify(out);
    assert.ok(!text.includes(key), text);
    const cause = out.cause as ReturnType<typeof scrubError>;
    assert.equal(cause.message, `retry with ${REDACTED}`);
    const rootOut = cause.cause as ReturnType<typeof scrubError>;
    assert.equal(rootOut.message, `socket said ${REDACTED}`);
    assert.equal(rootOut.code, `E_${REDACTED}`);
  });

  it("describes a non-Error thrown value, scrubbed", () => {
    const key = registered();
    assert.deepEqual(scrubError(`thrown ${key}`), { name: "NonError", message: `thrown ${REDACTED}` });
  });

  it("stops on a cause cycle", () => {
    const key = registered();
    const a = new Error(`a ${key}`);
    const b = new Error("b", { cause: a });
    a.cause = b;
    const out = scrubError(a);
    assert.ok(!JSON.stringify(out).includes(key));
  });

  it("describes the errors inside an AggregateError (undici's connect failures)", () => {
    const key = registered();
    const agg = new AggregateError([new Error(`connect ECONNREFUSED ${key}`), new Error("second")], "");
    const out = scrubError(agg) as ReturnType<typeof scrubError> & { errors?: { message: string }[] };
    assert.equal(out.errors?.length, 2);
    assert.equal(out.errors?.[0]?.message, `connect ECONNREFUSED ${REDACTED}`);
  });
});
