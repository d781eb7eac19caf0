import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { COMPLETION_TEMPLATE_FIELDS, CompletionRecordSchema } from "../../src/schema/record.ts";
import { startSimulator } from "../../src/simulator/index.ts";
import { cli, isolatedEnv, type CliRun as Run } from "../helpers/cli.ts";
import { runCliInterrupted } from "../helpers/interrupted-cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("tokenhub-setup CLI (non-interactive)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--simulate --json prints a record with the completion template's fields and exits 0", async () => {
    const r = await cli(["--simulate", "--json"], { XDG_STATE_HOME: dir });
    assert.equal(r.code, EXIT.complete, r.stderr);
    // The keys as printed (parsing would reorder them and drop strangers): the template's, then the summary.
    const printed = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(printed), [...COMPLETION_TEMPLATE_FIELDS, "result"]);
    const record = CompletionRecordSchema.parse(printed);
    assert.equal(record.integration_status, "success");
    assert.match(r.stderr, /\[1\/5\] Read TOKENHUB_API_KEY/);
    assert.match(r.stderr, /Integration complete/);
    // --simulate never touches the real record.
    await assert.rejects(stat(join(dir, "tokenhub-setup", "status.json")), { code: "ENOENT" });
  });

  // The command as a person types it: npm's own resolution of the package's bin, the built dist, the bin's mode
  // and shebang (a fresh clone once answered "Permission denied" here while the src tests above passed).
  it("`npx tokenhub-setup --simulate --json` (the built bin) prints the completion template's fields", async () => {
    // npx runs the bin without our --import, so keytar is not faked here: --simulate never builds a keychain.
    const isolated = isolatedEnv({ XDG_STATE_HOME: dir });
    const r = await new Promise<Run>((resolve) => {
      execFile(
        "npx",
        ["--no-install", "tokenhub-setup", "--simulate", "--json"],
        { cwd: ROOT, env: isolated.env },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    }).finally(isolated.cleanup);
    assert.equal(r.code, EXIT.complete, `${r.stderr}\n(is dist built? npm run build)`);
    // The keys as printed (parsing would reorder them and drop strangers): the template's, then the summary.
    const printed = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(printed), [...COMPLETION_TEMPLATE_FIELDS, "result"]);
    const record = CompletionRecordSchema.parse(printed);
    assert.equal(record.integration_status, "success");
  });

  it("writes the record where --status-file says, mode 0600", async () => {
    const file = join(dir, "records", "status.json");
    const r = await cli(["--simulate", "--status-file", file]);
    assert.equal(r.code, EXIT.complete, r.stderr);
    const record = CompletionRecordSchema.parse(JSON.parse(await readFile(file, "utf8")));
    assert.equal(record.integration_status, "success");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(r.stderr, new RegExp(`Record: ${file}`));
    // It says where the record goes, not that no record is touched.
    assert.ok(r.stderr.includes(`the record goes to ${file}`), r.stderr);
    assert.doesNotMatch(r.stderr, /not touched/);
  });

  for (const [scenario, code, failure] of [
    ["unauthorized", EXIT.keyRejected, undefined],
    ["routing-exhausted", EXIT.escalated, "routing_exhausted"],
    ["insufficient-balance", EXIT.escalated, "insufficient_balance"],
    ["malformed-json", EXIT.invalidResponse, "invalid_response"],
    ["region-unavailable-dashscope", EXIT.complete, undefined],
  ] as const) {
    it(`exits ${code} on the ${scenario} scenario`, async () => {
      const r = await cli(["--simulate", "--json", "--scenario", scenario]);
      assert.equal(r.code, code, r.stderr);
      const json = JSON.parse(r.stdout);
      // A record (with its failure when the flow did not complete), except while the flow waits for a key.
      assert.deepEqual(
        Object.keys(json),
        code === EXIT.keyRejected
          ? ["state", "needKey"]
          : [...COMPLETION_TEMPLATE_FIELDS, "result", ...(failure ? ["failure"] : [])],
      );
      if (failure) assert.equal(json.failure.code, failure);
    });
  }

  it("--stream refuses a plain JSON completion: invalid response, exit 6, naming what was expected and what came", async () => {
    const r = await cli(["--simulate", "--stream", "--json", "--scenario", "stream-answered-json"]);
    assert.equal(r.code, EXIT.invalidResponse, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.integration_status, "failed");
    assert.equal(json.failure.code, "invalid_response");
    assert.match(json.failure.message, /text\/event-stream/);
    assert.match(json.failure.message, /application\/json/);
    assert.doesNotMatch(r.stderr, /Integration complete/);
    assert.match(r.stderr, /✖ .*stream.*text\/event-stream.*application\/json/);
  });

  it("exits 3 and explains where to get a key when none is found", async () => {
    const sim = await startSimulator({ scenario: "happy" });
    try {
      const r = await cli(["--base-url", sim.baseUrl, "--json", "--status-file", join(dir, "none.json")], {
        TOKENHUB_API_KEY: "",
      });
      assert.equal(r.code, EXIT.keyMissing, r.stderr);
      assert.equal(JSON.parse(r.stdout).needKey.reason, "missing");
      assert.match(r.stderr, /API Keys/);
      assert.equal(sim.requests.length, 0);
    } finally {
      await sim.close();
    }
  });

  it("--model, repeated, is the fallback chain the flow walks", async () => {
    const sim = await startSimulator({
      scenario: "region-unavailable-dashscope",
      acceptKeys: ["sk-model-test-0123456789"],
    });
    try {
      const models = ["--model", "deepseek-v3.2", "--model", "plan/my-model"];
      const r = await cli(
        ["--base-url", sim.baseUrl, "--json", "--status-file", join(dir, "models.json"), ...models],
        { TOKENHUB_API_KEY: "sk-model-test-0123456789" },
      );
      assert.equal(r.code, EXIT.complete, r.stderr);
      assert.deepEqual(
        sim.requests.map((q) => (q.body as { model?: string }).model),
        ["deepseek-v3.2", "plan/my-model"],
      );
      assert.equal(JSON.parse(r.stdout).model, "plan/my-model");
    } finally {
      await sim.close();
    }
  });

  for (const args of [
    ["--bogus"],
    ["--model"],
    ["--scenario", "happy"],
    ["--simulate", "--base-url", "https://x.test/v1"],
  ]) {
    it(`exits 2 with one line for a usage error: ${args.join(" ")}`, async () => {
      const r = await cli(args);
      assert.equal(r.code, EXIT.usage);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });
  }

  // The person typed flags: a refused value is named by its flag, never by a config path (issue 11, item 7).
  for (const [args, flag] of [
    [["--simulate", "--model", ""], "--model"],
    [["--simulate", "--multimodal", "video", "--poll-interval", "100000"], "--poll-interval"],
    [["--simulate", "--multimodal", "image", "--output-dir", ""], "--output-dir"],
  ] as const) {
    it(`names the flag, not the config path, for a refused value: ${args.join(" ")}`, async () => {
      const r = await cli([...args]);
      assert.equal(r.code, EXIT.usage, r.stderr);
      assert.match(r.stderr, new RegExp(`tokenhub-setup: ${flag}`));
      assert.doesNotMatch(r.stderr, /modelChain|pollIntervalMs|outputDir|multimodal\./);
    });
  }

  it("exits 2 for a plain-http base URL that is not loopback, before any request", async () => {
    const r = await cli(["--base-url", "http://tokenhub.link/v1"], { TOKENHUB_API_KEY: "sk-cli-http-check" });
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /only https: is allowed/);
  });

  it("exits 2 for an unknown scenario, naming it", async () => {
    const r = await cli(["--simulate", "--scenario", "no-such-scenario"]);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /no-such-scenario/);
  });

  it("--help tells the truth about options and exit codes", async () => {
    const r = await cli(["--help"]);
    assert.equal(r.code, 0);
    for (const option of ["--json", "--base-url", "--model", "--status-file", "--simulate", "--scenario"]) {
      assert.ok(r.stdout.includes(option), option);
    }
    for (const [name, code] of Object.entries(EXIT))
      assert.ok(r.stdout.includes(String(code)), `${name} ${code}`);
  });

  it("--multimodal image,video: both files saved, listed beside the text result, in the --json record", async () => {
    const out = join(dir, "media");
    const r = await cli(["--simulate", "--json", "--multimodal", "image,video", "--output-dir", out]);
    assert.equal(r.code, EXIT.complete, r.stderr);
    const record = CompletionRecordSchema.parse(JSON.parse(r.stdout));
    assert.equal(record.multimodal?.image?.status, "ok");
    assert.equal(record.multimodal?.video?.status, "ok");
    assert.ok(record.multimodal?.image?.file?.startsWith(out));
    assert.equal(
      (await stat(record.multimodal?.video?.file as string)).size,
      record.multimodal?.video?.bytes,
    );
    assert.match(r.stderr, /video check: polling task/);
    assert.match(r.stderr, /^ {2}image: ok with wanx2\.1-t2i-turbo, saved /m);
    assert.match(r.stderr, /^ {2}video: ok with wan2\.6-t2v, saved /m);
  });

  it("a failing video check is reported with its remedy and does not fail the run (exit 0)", async () => {
    const r = await cli(["--simulate", "--scenario", "video-failed", "--multimodal", "video"], {
      XDG_CACHE_HOME: join(dir, "cache"),
    });
    assert.equal(r.code, EXIT.complete, r.stderr);
    assert.match(r.stderr, /Integration complete/);
    assert.match(r.stderr, /video: failed with wan2\.6-t2v \(task task-\d+\): .*What to do: /);
  });

  it("--simulate --multimodal keeps only the latest run's files, in the cache, and says so; named folders stay", async () => {
    const home = await mkdtemp(join(dir, "sim-media-"));
    const env = { XDG_CACHE_HOME: join(home, "cache"), TMPDIR: join(home, "tmp") };
    await mkdir(env.TMPDIR);
    const root = join(env.XDG_CACHE_HOME, "tokenhub-setup", "simulated-media");
    const imageOf = (r: Run) => CompletionRecordSchema.parse(JSON.parse(r.stdout)).multimodal?.image?.file;

    const first = await cli(["--simulate", "--json", "--multimodal", "image"], env);
    assert.equal(first.code, EXIT.complete, first.stderr);
    const firstFile = imageOf(first) as string;
    // After the run, the demo's file is still there to look at, in the folder the output named.
    assert.ok(firstFile.startsWith(`${root}/`), firstFile);
    await stat(firstFile);
    const firstDir = dirname(firstFile);
    assert.ok(
      first.stderr.includes(`simulated media files go to ${firstDir}; the next simulated run removes them`),
      first.stderr,
    );
    // Nothing in the OS temp folder (each run used to leave a tokenhub-sim-media-* folder there; Node's own
    // compile cache may sit there).
    const ours = async () => (await readdir(env.TMPDIR)).filter((name) => name.startsWith("tokenhub"));
    assert.deepEqual(await ours(), []);

    // What is not a run folder of ours, and the folder of a run still going, are never touched.
    await writeFile(join(root, "notes.txt"), "mine");
    await mkdir(join(root, "12345-mine"));
    const running = join(root, `${process.pid}-abcdef`);
    await mkdir(running);
    const named = join(home, "named");
    const kept = await cli(["--simulate", "--json", "--multimodal", "image", "--output-dir", named], env);
    assert.equal(kept.code, EXIT.complete, kept.stderr);
    assert.doesNotMatch(kept.stderr, /removes them/);
    await stat(firstFile); // a run with --output-dir leaves the cache alone

    const second = await cli(["--simulate", "--json", "--multimodal", "image"], env);
    assert.equal(second.code, EXIT.complete, second.stderr);
    const secondDir = dirname(imageOf(second) as string);
    assert.deepEqual(
      (await readdir(root)).sort(),
      ["12345-mine", basename(running), basename(secondDir), "notes.txt"].sort(),
    );
    await stat(imageOf(kept) as string);
    assert.deepEqual(await ours(), []);
  });

  // The simulator's too-large media are 64 MiB; --simulate caps downloads at 16 MiB unless told otherwise, so
  // the scenarios fail as they are named, from the command line too.
  for (const scenario of ["media-too-large", "media-too-large-chunked"]) {
    it(`--simulate --scenario ${scenario}: the image check fails with media_too_large (the text record stands)`, async () => {
      const out = await mkdtemp(join(dir, "too-large-"));
      const r = await cli([
        "--simulate",
        "--json",
        "--scenario",
        scenario,
        "--multimodal",
        "image",
        "--output-dir",
        out,
      ]);
      assert.equal(r.code, EXIT.complete, r.stderr);
      const record = CompletionRecordSchema.parse(JSON.parse(r.stdout));
      assert.equal(record.integration_status, "success");
      assert.equal(record.multimodal?.image?.status, "failed");
      assert.equal(record.multimodal?.image?.error?.code, "media_too_large");
      assert.match(r.stderr, /image: failed with .*larger than the 16 MiB limit/);
      assert.deepEqual(await readdir(out), []);
    });
  }

  it("--max-media-bytes sets the cap: a lower one refuses the happy image, a higher one takes the 64 MiB one", async () => {
    const low = await cli([
      "--simulate",
      "--json",
      "--multimodal",
      "image",
      "--max-media-bytes",
      "10",
      "--output-dir",
      join(dir, "low"),
    ]);
    assert.equal(low.code, EXIT.complete, low.stderr);
    const lowImage = CompletionRecordSchema.parse(JSON.parse(low.stdout)).multimodal?.image;
    assert.equal(lowImage?.error?.code, "media_too_large");
    const high = await cli([
      "--simulate",
      "--json",
      "--scenario",
      "media-too-large",
      "--multimodal",
      "image",
      "--max-media-bytes",
      String(100 * 1024 * 1024),
      "--output-dir",
      join(dir, "high"),
    ]);
    assert.equal(high.code, EXIT.complete, high.stderr);
    const image = CompletionRecordSchema.parse(JSON.parse(high.stdout)).multimodal?.image;
    assert.equal(image?.status, "ok", high.stderr);
    assert.equal(image?.bytes, 64 * 1024 * 1024);
    await rm(join(dir, "high"), { recursive: true, force: true });
  });

  it("off a terminal, a 64 MiB download prints a few progress lines, the final figure last", async () => {
    const out = join(dir, "progress");
    const r = await cli([
      "--simulate",
      "--scenario",
      "media-too-large",
      "--multimodal",
      "image",
      "--max-media-bytes",
      String(100 * 1024 * 1024),
      "--output-dir",
      out,
    ]);
    await rm(out, { recursive: true, force: true });
    assert.equal(r.code, EXIT.complete, r.stderr);
    const progress = r.stderr.split("\n").filter((line) => /image check: downloaded/.test(line));
    // The session reports every 256 KiB (some 250 updates); the first, one per 10 s, and the last are printed.
    assert.ok(progress.length >= 2 && progress.length <= 4, progress.join("\n"));
    assert.match(progress.at(-1) ?? "", /downloaded 64\.0 MB of 64\.0 MB$/);
    // The held-back final figure comes before what follows it, not after.
    assert.ok(r.stderr.indexOf("64.0 MB of 64.0 MB") < r.stderr.indexOf("[5/5]"), r.stderr);
  });

  for (const value of ["0", "-5", "1.5", "abc", "1e9", "", "99999999999999999999"]) {
    it(`exits 2 naming --max-media-bytes for ${JSON.stringify(value)}`, async () => {
      const r = await cli(["--simulate", "--multimodal", "image", `--max-media-bytes=${value}`]);
      assert.equal(r.code, EXIT.usage, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /--max-media-bytes/);
    });
  }

  for (const args of [
    ["--multimodal", "audio"],
    ["--multimodal", "image", "--video-protocol", "grpc"],
    ["--multimodal", "video", "--poll-interval", "soon"],
  ]) {
    it(`exits 2 with one line for a bad multimodal option: ${args.join(" ")}`, async () => {
      const r = await cli(["--simulate", ...args]);
      assert.equal(r.code, EXIT.usage);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    });
  }

  it("Ctrl-C while the video renders: the verified text record is written whole, exit 130", async () => {
    const file = join(dir, "media-cancel.json");
    const { code, stderr } = await runCliInterrupted(
      ["--simulate", "--scenario", "video-never-finishes", "--multimodal", "video", "--status-file", file],
      { XDG_CACHE_HOME: join(dir, "cache") },
      "polling task",
    );
    assert.equal(code, EXIT.cancelled, stderr);
    const record = CompletionRecordSchema.parse(JSON.parse(await readFile(file, "utf8")));
    assert.equal(record.integration_status, "success");
    assert.equal(record.multimodal?.video?.status, "cancelled");
    assert.match(record.multimodal?.video?.task_id ?? "", /^task-/);
  });

  it("Ctrl-C mid-request exits 130 and the record says the check was cancelled", async () => {
    const file = join(dir, "cancel.json");
    const { code, stderr } = await runCliInterrupted(
      ["--simulate", "--scenario", "slow-headers", "--status-file", file],
      {},
      "[3/5]",
    );
    assert.equal(code, EXIT.cancelled, stderr);
    assert.match(stderr, /Cancelled/);
    const record = CompletionRecordSchema.parse(JSON.parse(await readFile(file, "utf8")));
    assert.equal(record.failure?.code, "cancelled");
    assert.equal(record.validated_at, null);
  });
});
