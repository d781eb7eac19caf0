/**
 * The delay a server asked for, in milliseconds, or null when it asked for none we can use.
 * `retry-after-ms` (OpenAI's extension) wins over `Retry-After`, which is either delta-seconds or an HTTP date.
 * Negative, non-numeric and unparseable values are ignored (null), so the computed backoff applies; a date in
 * the past means "now" (0). Absurdly large values are returned as they are: capping is the policy's decision.
 * A number too large for a double (Infinity) becomes Number.MAX_SAFE_INTEGER, so it stays "too long" once
 * the outcome goes through JSON (a snapshot), where Infinity would turn into null ("no server delay").
 */
export function parseRetryAfter(
  headers: Readonly<Record<string, string | undefined>>,
  now: number = Date.now(),
): number | null {
  const ms = headers["retry-after-ms"]?.trim();
  if (ms && DELTA.test(ms)) return finite(Number(ms));

  const value = headers["retry-after"]?.trim();
  if (!value) return null;
  if (DELTA.test(value)) return finite(Number(value) * 1000);
  const date = parseHttpDate(value);
  return date === null ? null : Math.max(0, date - now);
}

const DELTA = /^\d+(\.\d+)?$/;

function finite(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms) : Number.MAX_SAFE_INTEGER;
}

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "\\d{2}:\\d{2}:\\d{2}";
/** RFC 9110 section 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept. */
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{1,2} ${MONTH} \\d{4} ${TIME} GMT$`, "i");
const RFC_850 = new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`, "i");
const ASCTIME = new RegExp(`^${DAY} ${MONTH} \\d{1,2} ${TIME} \\d{4}$`, "i");

/**
 * Only the HTTP-date forms: V8's `Date.parse` also accepts garbage such as "foo 1" (1 January 2001), which
 * would read as a date in the past and mean "retry at once". asctime carries no zone; HTTP says it is GMT,
 * while `Date.parse` would read it in the local zone.
 */
function parseHttpDate(value: string): number | null {
  const text = value.replace(/\s+/g, " ");
  let parsed = Number.NaN;
  if (IMF_FIXDATE.test(text) || RFC_850.test(text)) parsed = Date.parse(text);
  else if (ASCTIME.test(text)) parsed = Date.parse(`${text} GMT`);
  return Number.isNaN(parsed) ? null : parsed;
}
