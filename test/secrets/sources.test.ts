import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { KeychainUnavailableError } from "../../src/errors.ts";
import { parseKey } from "../../src/secrets/key.ts";
import { createKeychain, type Keychain } from "../../src/secrets/keychain.ts";
import { ENV_VAR, type KeySources, resolveKey } from "../../src/secrets/sources.ts";
import { KeyVault } from "../../src/secrets/vault.ts";

function freshKey(): string {
  return `sk-th-${randomBytes(12).toString("hex")}`;
}

/** A keychain that counts reads and answers from a script. */
function fakeKeychain(answer: () => string | undefined | Promise<string | undefined>) {
  const calls = { get: 0, set: 0, delete: 0 };
  const keychain: Keychain = {
    async get() {
      calls.get++;
      return answer();
    },
    async set() {
      calls.set++;
    },
    async delete() {
      calls.delete++;
      return true;
    },
  };
  return { keychain, calls };
}

function noticesLeak(notices: readonly string[], ...values: string[]): boolean {
  return values.some((v) => notices.some((n) => n.includes(v)));
}

describe("resolveKey: order", () => {
  it("takes the explicit key over env, host and keychain", async () => {
    const explicit = parseKey(freshKey(), "event");
    const { keychain, calls } = fakeKeychain(freshKey);
    let hostCalls = 0;
    const found = await resolveKey(
      {
        env: { [ENV_VAR]: freshKey() },
        hostSecret: () => {
          hostCalls++;
          return freshKey();
        },
        keychain,
      },
      { explicit },
    );
    assert.equal(found.key, explicit);
    assert.equal(found.key?.source, "event");
    assert.deepEqual(found.notices, []);
    assert.equal(found.sawRejected, false);
    assert.equal(hostCalls, 0);
    assert.equal(calls.get, 0);
  });

  it("takes env over host and keychain, and does not touch the keychain", async () => {
    const env = freshKey();
    const { keychain, calls } = fakeKeychain(freshKey);
    let hostCalls = 0;
    const found = await resolveKey(
      {
        env: { [ENV_VAR]: ` ${env}\n` },
        hostSecret: () => {
          hostCalls++;
          return freshKey();
        },
        keychain,
      },
      {},
    );
    assert.equal(found.key?.reveal(), env);
    assert.equal(found.key?.source, "env");
    assert.equal(hostCalls, 0);
    assert.equal(calls.get, 0, "keychain was read although env had a key");
  });

  it("takes the host secret over the keychain, sync or async", async () => {
    for (const wrap of [(v: string) => v, (v: string) => Promise.resolve(v)]) {
      const host = freshKey();
      const { keychain, calls } = fakeKeychain(freshKey);
      const found = await resolveKey({ env: {}, hostSecret: () => wrap(host), keychain }, {});
      assert.equal(found.key?.reveal(), host);
      assert.equal(found.key?.source, "host");
      assert.equal(calls.get, 0);
    }
  });

  it("falls back to the keychain when nothing else has a key", async () => {
    const stored = freshKey();
    const { keychain, calls } = fakeKeychain(() => stored);
    const found = await resolveKey({ env: {}, hostSecret: () => undefined, keychain }, {});
    assert.equal(found.key?.reveal(), stored);
    assert.equal(found.key?.source, "keychain");
    assert.equal(calls.get, 1);
  });

  it("finds nothing, with no notices, when every source is empty", async () => {
    const { keychain } = fakeKeychain(() => undefined);
    const found = await resolveKey({ env: {}, keychain }, {});
    assert.equal(found.key, undefined);
    assert.deepEqual(found.notices, []);
    assert.equal(found.sawRejected, false);
  });

  it("never reads the keychain when it is switched off", async () => {
    const found = await resolveKey({ env: {}, keychain: false }, {});
    assert.equal(found.key, undefined);
  });

  it("reads process.env when no env is given", async () => {
    const value = freshKey();
    const saved = process.env[ENV_VAR];
    process.env[ENV_VAR] = value;
    try {
      const found = await resolveKey({ keychain: false }, {});
      assert.equal(found.key?.reveal(), value);
    } finally {
      if (saved === undefined) delete process.env[ENV_VAR];
      else process.env[ENV_VAR] = saved;
    }
  });
});

describe("resolveKey: unusable sources", () => {
  for (const blank of ["", "   ", "\t\n"]) {
    it(`treats ${JSON.stringify(blank)} in TOKENHUB_API_KEY as unset`, async () => {
      const stored = freshKey();
      const { keychain } = fakeKeychain(() => stored);
      const found = await resolveKey({ env: { [ENV_VAR]: blank }, keychain }, {});
      assert.equal(found.key?.source, "keychain");
      assert.deepEqual(found.notices, [], "a blank variable is not worth a notice");
    });
  }

  it("treats a blank host secret and a blank keychain entry as unset", async () => {
    const { keychain } = fakeKeychain(() => "  ");
    const found = await resolveKey({ env: {}, hostSecret: () => "", keychain }, {});
    assert.equal(found.key, undefined);
    assert.deepEqual(found.notices, []);
  });

  it("gives a notice without the key for a malformed env key, then falls through", async () => {
    const bad = `${freshKey()} ${freshKey()}`;
    const host = freshKey();
    const found = await resolveKey({ env: { [ENV_VAR]: bad }, hostSecret: () => host, keychain: false }, {});
    assert.equal(found.key?.reveal(), host);
    assert.equal(found.notices.length, 1);
    assert.match(found.notices[0] ?? "", /TOKENHUB_API_KEY/);
    assert.match(found.notices[0] ?? "", /whitespace/);
    assert.ok(!noticesLeak(found.notices, bad, ...bad.split(" ")));
  });

  it("gives a notice for a host secret that throws, without its message", async () => {
    const secret = freshKey();
    const stored = freshKey();
    const { keychain } = fakeKeychain(() => stored);
    const found = await resolveKey(
      {
        env: {},
        hostSecret: () => {
          throw new Error(`vault said no to ${secret}`);
        },
        keychain,
      },
      {},
    );
    assert.equal(found.key?.reveal(), stored);
    assert.equal(found.notices.length, 1);
    assert.match(found.notices[0] ?? "", /host/);
    assert.ok(!noticesLeak(found.notices, secret));
  });

  it("gives a notice when the keychain is unavailable and carries on", async () => {
    const { keychain, calls } = fakeKeychain(() => {
      throw new KeychainUnavailableError(
        "keychain_locked",
        "OS keychain unavailable: the keyring is locked.",
        {
          remedy: "Unlock the login keyring and try again.",
        },
      );
    });
    const found = await resolveKey({ env: {}, keychain }, {});
    assert.equal(calls.get, 1);
    assert.equal(found.key, undefined);
    assert.deepEqual(found.notices, [
      "OS keychain unavailable: the keyring is locked. Unlock the login keyring and try again.",
    ]);
  });

  it("skips rejected fingerprints, says so, and goes on to the next source", async () => {
    const explicit = parseKey(freshKey(), "event");
    const env = parseKey(freshKey(), "env");
    const host = freshKey();
    const found = await resolveKey(
      { env: { [ENV_VAR]: env.reveal() }, hostSecret: () => host, keychain: false },
      { explicit, rejected: [explicit.fingerprint, env.fingerprint] },
    );
    assert.equal(found.key?.reveal(), host);
    assert.equal(found.sawRejected, true);
    assert.equal(found.notices.length, 2);
    for (const n of found.notices) assert.match(n, /already rejected/);
    assert.ok(!noticesLeak(found.notices, explicit.reveal(), env.reveal(), host));
  });

  it("reports sawRejected with no key when the only key was rejected", async () => {
    const env = parseKey(freshKey(), "env");
    const found = await resolveKey(
      { env: { [ENV_VAR]: env.reveal() }, keychain: false },
      { rejected: [env.fingerprint] },
    );
    assert.equal(found.key, undefined);
    assert.equal(found.sawRejected, true);
  });
});

describe("resolveKey: only", () => {
  const everywhere = (): { sources: KeySources; values: Record<string, string>; calls: { get: number } } => {
    const values = { env: freshKey(), host: freshKey(), keychain: freshKey() };
    const { keychain, calls } = fakeKeychain(() => values.keychain);
    return {
      sources: { env: { [ENV_VAR]: values.env }, hostSecret: () => values.host, keychain },
      values,
      calls,
    };
  };

  for (const only of ["env", "host", "keychain"] as const) {
    it(`reads ${only} alone`, async () => {
      const { sources, values, calls } = everywhere();
      const found = await resolveKey(sources, { only, explicit: parseKey(freshKey(), "event") });
      assert.equal(found.key?.reveal(), values[only]);
      assert.equal(found.key?.source, only);
      assert.equal(calls.get, only === "keychain" ? 1 : 0);
    });
  }

  it("does not fall through to another source when the one asked for is empty", async () => {
    const { sources, calls } = everywhere();
    const found = await resolveKey({ ...sources, hostSecret: () => undefined }, { only: "host" });
    assert.equal(found.key, undefined);
    assert.equal(calls.get, 0);
  });

  it("reads the explicit key alone with only: event", async () => {
    const { sources, calls } = everywhere();
    const explicit = parseKey(freshKey(), "event");
    assert.equal((await resolveKey(sources, { only: "event", explicit })).key, explicit);
    assert.equal((await resolveKey(sources, { only: "event" })).key, undefined);
    assert.equal(calls.get, 0);
  });
});

// Where keytar is installed and built (libsecret was there at install time) the package cannot be absent in this
// process; test/keychain/keychain.test.ts shows it absent and unbuilt for real, in a child, in the keyring session.
const keytarSpecifier = "keytar";
const keytarLoads = await import(keytarSpecifier).then(
  () => true,
  () => false,
);

describe("createKeychain without keytar installed", {
  skip: keytarLoads && "keytar is installed and built here (test/keychain covers it missing and unbuilt)",
}, () => {
  it("rejects get, set and delete with keychain_not_installed and a remedy naming TOKENHUB_API_KEY", async () => {
    const keychain = createKeychain("tokenhub-setup-test", "default");
    for (const call of [() => keychain.get(), () => keychain.set(freshKey()), () => keychain.delete()]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof KeychainUnavailableError);
        assert.equal(err.code, "keychain_not_installed");
        assert.match(err.remedy, /TOKENHUB_API_KEY/);
        assert.match(err.message, /keytar/);
        assert.match(err.message, /not installed/);
        return true;
      });
    }
  });

  it("lets resolveKey carry on with a notice", async () => {
    const found = await resolveKey(
      { env: {}, keychain: createKeychain("tokenhub-setup-test", "default") },
      {},
    );
    assert.equal(found.key, undefined);
    assert.equal(found.notices.length, 1);
    assert.match(found.notices[0] ?? "", /TOKENHUB_API_KEY/);
  });
});

describe("KeyVault", () => {
  it("holds keys and prints redacted under JSON and inspect", () => {
    const handed = parseKey(freshKey(), "event");
    const current = parseKey(freshKey(), "env");
    const vault = new KeyVault();
    vault.handOver(handed);
    vault.use(current);
    assert.equal(vault.handedOver, handed);
    assert.equal(vault.current, current);
    for (const text of [
      JSON.stringify(vault),
      JSON.stringify({ vault }),
      inspect(vault),
      inspect({ deep: { vault } }, { depth: 10, showHidden: true }),
      String(vault),
    ]) {
      assert.ok(!text.includes(handed.reveal()) && !text.includes(current.reveal()), text);
    }
    assert.match(JSON.stringify(vault), /redacted/);
    assert.match(inspect(vault), /redacted/);
    vault.clear();
    assert.equal(vault.handedOver, undefined);
    assert.equal(vault.current, undefined);
  });
});
