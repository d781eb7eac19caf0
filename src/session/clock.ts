/** Time for the session's actors. The machine itself only ever sees time as values in events and outputs. */
export interface Clock {
  now(): number;
  /** Resolves at `until` (epoch ms) or rejects when `signal` aborts. */
  sleepUntil(until: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleepUntil: (until, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      function done() {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }
      function onAbort() {
        clearTimeout(timer);
        reject(signal?.reason);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * A clock whose sleeps return at once and move time forward: backoffs of minutes run in microseconds and
 * tests assert on the schedule (`sleeps`) instead of sleeping. Requests still take real time; `now` adds it.
 */
export function createVirtualClock(
  start = Date.parse("2026-01-01T00:00:00Z"),
): Clock & { sleeps: number[]; advance(ms: number): void } {
  let offset = start - Date.now();
  const sleeps: number[] = [];
  const clock = {
    sleeps,
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
    async sleepUntil(until: number, signal?: AbortSignal) {
      // Yield a macrotask first, as a real timer would: observers see the flow resting in backingOff, and a
      // cancel or stop in between aborts the sleep, before time jumps.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw signal.reason;
      const wait = Math.max(0, until - clock.now());
      sleeps.push(wait);
      offset += wait;
    },
  };
  return clock;
}
