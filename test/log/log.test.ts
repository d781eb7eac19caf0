import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { TokenHubSetupError } from "../../src/errors.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { parseKey } from "../../src/secrets/key.ts";
import { REDACTED, registerSecret } from "../../src/secrets/scrubber.ts";

function registered(): string {
  const key = `sk-th-${randomBytes(12).toString("hex")}`;
  registerSecret(key);
  return key;
}

/** A destination that keeps every line pino writes. */
function collector() {
  const lines: string[] = [];
  return {
    lines,
    destination: {
      write(line: string) {
        lines.push(line);
      },
    },
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    /** Line `i`, parsed; fails the test when there is no such line. */
    line(i: number): Record<string, unknown> {
      const text = lines[i];
      assert.ok(text !== undefined, `no line ${i}`);
      return JSON.parse(text) as Record<string, unknown>;
    },
  };
}

function assertClean(lines: readonly string[], ...values: string[]): void {
  assert.ok(lines.length > 0, "nothing was written");
  for (const line of lines) {
    for (const v of values) assert.ok(!line.includes(v), `leaked ${v} in ${line}`);
  }
}

describe("createLogger", () => {
  it("writes one JSON line per call with name, level and bindings", () => {
    const out = collector();
    const log = createLogger({ destination: out.destination, bindings: { sessionId: "s-1" } });
    log.info({ attempt: 2 }, "hello");
    assert.equal(out.lines.length, 1);
    const [line] = out.parsed();
    assert.equal(line?.msg, "hello");
    assert.equal(line?.name, "tokenhub-setup");
    assert.equal(line?.sessionId, "s-1");
    assert.equal(line?.attempt, 2);
    assert.equal(line?.level, 30);
  });

  it("scrubs a key in the message string, including printf-style arguments", () => {
    const key = registered();
    const out = collector();
    const log = createLogger({ destination: out.destination });
    log.info(`using ${key} now`);
    log.info("format %s and %j", key, { key });
    assertClean(out.lines, key);
    assert.equal(out.parsed()[0]?.msg, `using ${REDACTED} now`);
  });

  it("scrubs a key in nested fields at any depth and in arrays", () => {
    const key = registered();
    const out = collector();
    const log = createLogger({ destination: out.destination });
    log.info({ a: { b: { c: { d: { e: [{ f: `x-${key}` }] } } } }, request: { body: { key } } }, "deep");
    assertClean(out.lines, key);
    assert.ok(out.lines[0]?.includes(REDACTED));
  });

  it("scrubs a key used as a property name", () => {
    const key = registered();
    const out = collector();
    createLogger({ destination: out.destination }).info({ map: { [key]: 1 } }, "names");
    assertClean(out.lines, key);
  });

  it("scrubs Authorization headers whatever their case or depth", () => {
    const key = registered();
    const out = collector();
    const log = createLogger({ destination: out.destination });
    log.info({ headers: { Authorization: `Bearer ${key}` } }, "top");
    log.info({ req: { headers: { authorization: `Bearer ${key}` } } }, "one down");
    log.info({ outer: { req: { headers: { AUTHORIZATION: `Bearer ${key}` } } } }, "two down");
    log.info({ Authorization: `Bearer ${key}` }, "bare");
    assertClean(out.lines, key);
    assert.deepEqual(out.line(0).headers, { Authorization: REDACTED });
    assert.deepEqual((out.line(1).req as { headers: unknown }).headers, { authorization: REDACTED });
    assert.equal(out.line(3).Authorization, REDACTED);
  });

  it("redacts an Authorization header even for a key the scrubber never saw", () => {
    const unknown = `sk-unregistered-${randomBytes(8).toString("hex")}`;
    const out = collector();
    createLogger({ destination: out.destination }).info(
      { headers: { authorization: `Bearer ${unknown}` }, apiKey: unknown },
      "known paths",
    );
    assertClean(out.lines, unknown);
  });

  it("scrubs a key in err: message, stack, code and cause", () => {
    const key = registered();
    const out = collector();
    const log = createLogger({ destination: out.destination });
    const root = Object.assign(new Error(`ECONNRESET near ${key}`), { code: "ECONNRESET" });
    const err = new Error(`request with ${key} failed`, { cause: root });
    log.error({ err }, "as a field");
    log.error(err, "as the first argument");
    log.error(err);
    log.warn({ error: err }, "under error");
    assertClean(out.lines, key);
    const shown = out.line(0).err as {
      message: string;
      stack: string;
      cause: { message: string; code: string };
    };
    assert.equal(shown.message, `request with ${REDACTED} failed`);
    assert.ok(shown.stack.includes(REDACTED));
    assert.equal(shown.cause.message, `ECONNRESET near ${REDACTED}`);
    assert.equal(shown.cause.code, "ECONNRESET");
    assert.equal((out.line(1).err as { message: string }).message, `request with ${REDACTED} failed`);
    assert.equal(out.line(2).msg, `request with ${REDACTED} failed`, "pino copies err.message into msg");
  });

  it("scrubs a key in the base64 of a Basic auth header and in base64url", () => {
    const key = registered();
    const basic = Buffer.from(`user:${key}`).toString("base64");
    const out = collector();
    const log = createLogger({ destination: out.destination });
    log.info({ header: `Basic ${basic}` }, "basic");
    log.info({ dump: Buffer.from(key).toString("base64url") }, "dump");
    log.info(`bearer b64 ${Buffer.from(`Bearer ${key}`).toString("base64")}`);
    assertClean(out.lines, basic, Buffer.from(key).toString("base64url"), key);
    for (const line of out.lines) assert.ok(line.includes(REDACTED), line);
  });

  it("scrubs a key with JSON-special characters as pino escapes it", () => {
    const key = `${registered()}"\\`;
    registerSecret(key);
    const out = collector();
    createLogger({ destination: out.destination }).info({ value: key }, `msg ${key}`);
    assertClean(out.lines, JSON.stringify(key).slice(1, -1), key);
    const [line] = out.parsed();
    assert.equal(line?.value, REDACTED);
    assert.equal(line?.msg, `msg ${REDACTED}`);
  });

  it("prints a SecretKey as redacted and a TokenHubSetupError with its code", () => {
    const value = `sk-th-${randomBytes(12).toString("hex")}`;
    const key = parseKey(value, "env");
    const out = collector();
    const log = createLogger({ destination: out.destination });
    log.info({ key, wrapped: { key } }, "secret key objects");
    log.error({ err: new TokenHubSetupError("x_code", `bad ${value}`, { remedy: "fix" }) }, "typed");
    assertClean(out.lines, value);
    assert.equal((out.line(1).err as { code: string }).code, "x_code");
  });

  it("scrubs the bindings of a child logger", () => {
    const key = registered();
    const out = collector();
    const log = createLogger({ destination: out.destination }).child({ leaked: key });
    log.info("child");
    assertClean(out.lines, key);
  });

  it("respects the level option", () => {
    const out = collector();
    const log = createLogger({ destination: out.destination, level: "warn" });
    log.debug("no");
    log.info("no");
    log.warn("yes");
    log.error("yes");
    assert.deepEqual(
      out.parsed().map((l) => l.level),
      [40, 50],
    );
    const debug = collector();
    createLogger({ destination: debug.destination, level: "debug" }).debug("shown");
    assert.equal(debug.lines.length, 1);
  });

  it("reads the level from TOKENHUB_SETUP_LOG_LEVEL when not given", () => {
    const saved = process.env.TOKENHUB_SETUP_LOG_LEVEL;
    process.env.TOKENHUB_SETUP_LOG_LEVEL = "error";
    try {
      const out = collector();
      const log = createLogger({ destination: out.destination });
      log.warn("no");
      log.error("yes");
      assert.equal(out.lines.length, 1);
    } finally {
      if (saved === undefined) delete process.env.TOKENHUB_SETUP_LOG_LEVEL;
      else process.env.TOKENHUB_SETUP_LOG_LEVEL = saved;
    }
  });
});

describe("silentLogger", () => {
  it("writes nothing, even for errors and child loggers", (t) => {
    const writes: unknown[] = [];
    const stdout = t.mock.method(process.stdout, "write", (chunk: unknown) => {
      writes.push(chunk);
      return true;
    });
    const stderr = t.mock.method(process.stderr, "write", (chunk: unknown) => {
      writes.push(chunk);
      return true;
    });
    try {
      const log = silentLogger();
      log.fatal("fatal");
      log.error(new Error("boom"));
      log.child({ sessionId: "s" }).info("child");
    } finally {
      stdout.mock.restore();
      stderr.mock.restore();
    }
    assert.deepEqual(writes, []);
  });

  it("still scrubs if someone turns its level up", (t) => {
    const key = registered();
    const writes: string[] = [];
    const stdout = t.mock.method(process.stdout, "write", (chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    });
    const stderr = t.mock.method(process.stderr, "write", (chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const log = silentLogger();
      log.level = "info";
      log.info(`key ${key}`);
    } finally {
      stdout.mock.restore();
      stderr.mock.restore();
    }
    for (const w of writes) assert.ok(!w.includes(key), w);
  });
});
