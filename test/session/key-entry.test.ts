// Step-2 out of band: what the key page hands a submitted key to. Against the simulator (a real HTTP server);
// the key's places are a stand-in that records what was stored where (the real keychain is test/keychain's).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TokenHubSetupError } from "../../src/errors.ts";
import { type Keys, openKeyEntry, resolveConfig } from "../../src/session/index.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";

const GOOD = "sk-entry-good-0123456789abcdef";
const OTHER = "sk-entry-other-0123456789abcdef";

function placesWith(keychain: "works" | "missing") {
  const stored: Array<{ in: string; raw: string }> = [];
  const keys = {
    keyFile: "/nonexistent/api-key",
    keychainEntry: { service: "s", account: "a" },
    sources: {},
    find: async () => ({ places: [], notices: [] }),
    keychainProblem: async () =>
      keychain === "works"
        ? undefined
        : { code: "keychain_unavailable", message: "No keychain.", remedy: "Use a file." },
    async store(raw: string, options: { in: "keychain" | "file" }) {
      if (options.in === "keychain" && keychain === "missing")
        throw new TokenHubSetupError("keychain_unavailable", "No OS keychain answers here.", {
          remedy: "Use a file.",
        });
      stored.push({ in: options.in, raw });
    },
    clear: async () => ({ removed: false, fileRemoved: false }),
  } satisfies Keys;
  return { keys, stored };
}

describe("openKeyEntry: the probe decides before anything is kept", () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [GOOD] });
  });
  after(() => sim.close());
  const entryWith = (keychain: "works" | "missing") => {
    const places = placesWith(keychain);
    const entry = openKeyEntry({
      keys: places.keys,
      config: resolveConfig({ baseUrl: sim.baseUrl }),
      env: {},
    });
    return { entry, ...places };
  };

  it("an accepted key goes to the keychain, masked in the answer", async () => {
    const { entry, stored } = entryWith("works");
    const answer = await entry.submit(`  ${GOOD}\n`);
    assert.equal(answer.ok, true);
    assert.ok(answer.ok && answer.kept === "keychain" && answer.checked.status === 200);
    assert.ok(answer.ok && !answer.hint.includes(GOOD.slice(4, -4)));
    assert.deepEqual(stored, [{ in: "keychain", raw: GOOD }]);
    assert.equal(entry.held(), undefined);
    await entry.close();
  });

  it("a key TokenHub rejects (401) is stored nowhere", async () => {
    const { entry, stored } = entryWith("works");
    const answer = await entry.submit(OTHER);
    assert.equal(answer.ok, false);
    assert.ok(!answer.ok && answer.code === "key_rejected" && answer.checked?.status === 401);
    assert.deepEqual(stored, []);
    assert.ok(!JSON.stringify(answer).includes(OTHER));
    await entry.close();
  });

  it("what cannot be a key is refused before any request", async () => {
    const { entry, stored } = entryWith("works");
    const before = sim.requests.length;
    const answer = await entry.submit("not a key");
    assert.ok(!answer.ok && answer.code === "key_format");
    assert.equal(sim.requests.length, before);
    assert.deepEqual(stored, []);
    await entry.close();
  });

  it("with no keychain: the file when the person opted in, else this process holds it", async () => {
    const file = entryWith("missing");
    const inFile = await file.entry.submit(GOOD, { insecureFile: true });
    assert.ok(inFile.ok && inFile.kept === "file");
    assert.deepEqual(file.stored, [{ in: "file", raw: GOOD }]);
    const memory = entryWith("missing");
    const held = await memory.entry.submit(GOOD);
    assert.ok(held.ok && held.kept === "memory" && held.keychainProblem?.code === "keychain_unavailable");
    assert.equal(memory.entry.held(), GOOD);
    assert.deepEqual(memory.stored, []);
    await file.entry.close();
    await memory.entry.close();
  });
});
