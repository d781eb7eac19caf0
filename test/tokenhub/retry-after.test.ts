import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRetryAfter } from "../../src/tokenhub/retry-after.ts";

const NOW = Date.parse("2025-01-01T00:00:00Z");
const at = (offsetMs: number) => new Date(NOW + offsetMs).toUTCString();

describe("parseRetryAfter", () => {
  it("reads delta-seconds as milliseconds", () => {
    assert.equal(parseRetryAfter({ "retry-after": "1" }, NOW), 1000);
    assert.equal(parseRetryAfter({ "retry-after": "0" }, NOW), 0);
    assert.equal(parseRetryAfter({ "retry-after": " 30 " }, NOW), 30_000);
  });

  it("reads fractional seconds, rounded to a millisecond", () => {
    assert.equal(parseRetryAfter({ "retry-after": "1.5" }, NOW), 1500);
    assert.equal(parseRetryAfter({ "retry-after": "0.0004" }, NOW), 0);
    assert.equal(parseRetryAfter({ "retry-after": "2.0006" }, NOW), 2001);
  });

  it("reads an HTTP date in the future as the time left until it", () => {
    assert.equal(parseRetryAfter({ "retry-after": at(2000) }, NOW), 2000);
    assert.equal(parseRetryAfter({ "retry-after": at(3_600_000) }, NOW), 3_600_000);
  });

  it("reads an HTTP date in the past (or now) as 0", () => {
    assert.equal(parseRetryAfter({ "retry-after": at(-5000) }, NOW), 0);
    assert.equal(parseRetryAfter({ "retry-after": at(0) }, NOW), 0);
  });

  it("accepts the obsolete RFC 850 and asctime forms, asctime as GMT whatever the local zone", () => {
    const now = Date.parse("1994-11-06T08:49:00Z");
    const zone = process.env.TZ;
    process.env.TZ = "America/New_York"; // Node re-reads TZ on assignment; asctime must not shift 5 hours
    try {
      assert.equal(parseRetryAfter({ "retry-after": "Sunday, 06-Nov-94 08:49:37 GMT" }, now), 37_000);
      assert.equal(parseRetryAfter({ "retry-after": "Sun Nov  6 08:49:37 1994" }, now), 37_000);
      assert.equal(parseRetryAfter({ "retry-after": "Sun, 06 Nov 1994 08:49:37 GMT" }, now), 37_000);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it("lets retry-after-ms win over retry-after", () => {
    assert.equal(parseRetryAfter({ "retry-after-ms": "150", "retry-after": "5" }, NOW), 150);
    assert.equal(parseRetryAfter({ "retry-after-ms": "150.6", "retry-after": at(9000) }, NOW), 151);
    assert.equal(parseRetryAfter({ "retry-after-ms": "0", "retry-after": "5" }, NOW), 0);
  });

  it("falls back to retry-after when retry-after-ms is unusable", () => {
    assert.equal(parseRetryAfter({ "retry-after-ms": "-1", "retry-after": "5" }, NOW), 5000);
    assert.equal(parseRetryAfter({ "retry-after-ms": "soon", "retry-after": "5" }, NOW), 5000);
    assert.equal(parseRetryAfter({ "retry-after-ms": "", "retry-after": "5" }, NOW), 5000);
  });

  it("ignores negative values", () => {
    assert.equal(parseRetryAfter({ "retry-after": "-1" }, NOW), null);
    assert.equal(parseRetryAfter({ "retry-after": "-0.5" }, NOW), null);
    assert.equal(parseRetryAfter({ "retry-after-ms": "-150" }, NOW), null);
  });

  it("ignores garbage, including strings V8's Date.parse would take for a date", () => {
    for (const value of [
      "soon",
      "1e3",
      "0x10",
      "1,5",
      "5 seconds",
      "Infinity",
      "NaN",
      "foo 1",
      "x 2025",
      "May 5",
    ]) {
      assert.equal(parseRetryAfter({ "retry-after": value }, NOW), null, value);
    }
    assert.equal(
      parseRetryAfter({ "retry-after": "2025-01-01T00:00:10Z" }, NOW),
      null,
      "ISO is no HTTP date",
    );
  });

  it("returns null when the headers are empty or absent", () => {
    assert.equal(parseRetryAfter({}, NOW), null);
    assert.equal(parseRetryAfter({ "retry-after": "" }, NOW), null);
    assert.equal(parseRetryAfter({ "retry-after": "   " }, NOW), null);
    assert.equal(parseRetryAfter({ "retry-after": undefined, "retry-after-ms": undefined }, NOW), null);
  });

  it("returns huge values uncapped (capping is the policy's decision)", () => {
    assert.equal(parseRetryAfter({ "retry-after": "3600" }, NOW), 3_600_000);
    assert.equal(parseRetryAfter({ "retry-after": "99999999999" }, NOW), 99_999_999_999_000);
    assert.equal(parseRetryAfter({ "retry-after-ms": "86400000000" }, NOW), 86_400_000_000);
  });

  it("keeps a value too large for a double finite, so it survives JSON as a delay", () => {
    const ms = parseRetryAfter({ "retry-after": "9".repeat(400) }, NOW);
    assert.equal(ms, Number.MAX_SAFE_INTEGER);
    assert.equal(JSON.parse(JSON.stringify({ ms })).ms, Number.MAX_SAFE_INTEGER);
  });

  it("uses the real clock when no `now` is given", () => {
    const ms = parseRetryAfter({ "retry-after": new Date(Date.now() + 60_000).toUTCString() });
    assert.ok(ms !== null && ms > 55_000 && ms <= 60_000, String(ms));
  });
});
