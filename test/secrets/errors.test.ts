import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { format, inspect } from "node:util";
import {
  ConfigError,
  EventError,
  KeychainUnavailableError,
  KeyFormatError,
  SnapshotError,
  StatusStoreError,
  TokenHubSetupError,
} from "../../src/errors.ts";
import { REDACTED, registerSecret, scrubError } from "../../src/secrets/scrubber.ts";

function registered(): string {
  const key = `sk-th-${randomBytes(12).toString("hex")}`;
  registerSecret(key);
  return key;
}

describe("TokenHubSetupError", () => {
  it("keeps code and remedy, names itself after its class, and is an Error", () => {
    for (const Class of [
      ConfigError,
      KeyFormatError,
      KeychainUnavailableError,
      SnapshotError,
      StatusStoreError,
      EventError,
    ]) {
      const err = new Class("some_code", "Something failed.", { remedy: "Do this." });
      assert.ok(err instanceof Error);
      assert.ok(err instanceof TokenHubSetupError);
      assert.equal(err.name, Class.name);
      assert.equal(err.code, "some_code");
      assert.equal(err.remedy, "Do this.");
      assert.equal(err.toLine(), "Something failed. Do this.");
      assert.ok(err.stack?.startsWith(`${Class.name}: Something failed.`), err.stack);
      assert.match(inspect(err), new RegExp(`^${Class.name}: Something failed\\.`));
    }
  });

  it("scrubs message, remedy and stack at construction", () => {
    const key = registered();
    const err = new ConfigError("c", `bad ${key}`, { remedy: `not ${key}` });
    assert.equal(err.message, `bad ${REDACTED}`);
    assert.equal(err.remedy, `not ${REDACTED}`);
    assert.ok(!err.stack?.includes(key));
    assert.ok(!err.toLine().includes(key));
  });

  it("keeps the cause, and scrubs it wherever the error is printed", () => {
    const key = registered();
    const cause = new SyntaxError(`Unexpected token in "${key}"`, { cause: new Error(`deeper ${key}`) });
    const err = new StatusStoreError("status_corrupt", "The record is not valid.", {
      remedy: "Run again.",
      cause,
    });
    assert.equal(err.cause, cause, "the cause object is kept as it is");
    for (const text of [
      inspect(err),
      inspect({ wrapped: err }, { depth: 10 }),
      inspect(err, { colors: true }),
      format("%o", err),
      format("%s", err),
      JSON.stringify(err),
      JSON.stringify(scrubError(err)),
    ]) {
      assert.ok(!text.includes(key), `leaked in ${text}`);
    }
    assert.match(inspect(err), /\[cause\]: SyntaxError/);
    assert.match(inspect(err), /code: 'status_corrupt'/);
  });

  it("has no cause property when none was given", () => {
    const err = new EventError("invalid_event", "Not an event.", { remedy: "Send SETUP." });
    assert.equal(Object.hasOwn(err, "cause"), false);
  });

  it("hands its remedy to scrubError, for log lines", () => {
    const key = registered();
    const err = new KeychainUnavailableError("keychain_locked", "Locked.", { remedy: `Unlock ${key}.` });
    const out = scrubError(err);
    assert.equal(out.code, "keychain_locked");
    assert.equal(out.remedy, `Unlock ${REDACTED}.`);
  });
});
