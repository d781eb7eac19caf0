// The key in TOKENHUB_API_KEY is kept out of the CLI's output from its first line, not only once Step-1 has
// loaded it. helper-26 made `crypto.randomUUID` throw an error quoting the key (a fault injected with
// `--import`, before the session reads the key): the CLI's last-resort line printed it whole. The same fault is
// injected here, in every encoding the scrubber knows, and the output is searched for each form of the key.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cli, cliArgv, isolatedEnv } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leak-scan.ts";

const KEY = "sk-test-0123456789abcdef-FROMSTART";

/** A preload that makes the first crypto.randomUUID() throw an error quoting the key, raw, as JSON and base64. */
const FAULT = `
import crypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
crypto.randomUUID = () => {
  const key = process.env.TOKENHUB_API_KEY;
  throw new TypeError("fault: " + key + " " + JSON.stringify({ key }) + " " + Buffer.from(key).toString("base64"));
};
syncBuiltinESMExports();
`;

describe("the key in the environment, before Step-1 loads it", () => {
  for (const value of [KEY, ` ${KEY}\n`]) {
    it(`an unexpected error that quotes it prints none of it (TOKENHUB_API_KEY=${JSON.stringify(value.replace(KEY, "KEY"))})`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "tokenhub-fault-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const fault = join(dir, "fault.mjs");
      writeFileSync(fault, FAULT);
      const isolated = isolatedEnv({ TOKENHUB_API_KEY: value });
      t.after(() => isolated.cleanup());
      const args = [
        "--import",
        fault,
        ...cliArgv(["--base-url", "http://127.0.0.1:9/v1", "--json", "--verbose"]),
      ];
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, args, { env: isolated.env }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
        );
      });
      // The fault did fire: the run ended in the last-resort line, which names it.
      assert.match(run.stderr, /unexpected error: fault:/);
      assert.deepEqual(
        findLeaks(
          [KEY],
          [
            ["stdout", run.stdout],
            ["stderr", run.stderr],
          ],
        ),
        [],
      );
    });
  }
});

// helper-27: registering any value made TOKENHUB_API_KEY=success redact the record's own words (exit 7), and
// "type" or "complete" crash the run. Only what parseKey would take for a key (16 characters and up) is registered.
describe("a word too short to be a key, in TOKENHUB_API_KEY", () => {
  for (const word of ["type", "complete", "success", "TokenHub", "deepseek"]) {
    it(`TOKENHUB_API_KEY=${word}: the simulated run completes and its record keeps its words`, async () => {
      const run = await cli(["--simulate", "--json"], { TOKENHUB_API_KEY: word });
      assert.equal(run.code, 0);
      const record = JSON.parse(run.stdout) as { integration_status: string; model: string };
      assert.equal(record.integration_status, "success");
      assert.doesNotMatch(run.stdout, /\[redacted\]/);
    });
  }
});
