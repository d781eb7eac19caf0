// The multimodal checks (section 5 of the quickstart) driven through a real session against the simulator:
// every image shape, both video protocols, the failure paths, the deadline, cancel, restore mid-task, the
// download rules (other origin, cap, type) and the object-storage hook.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../../src/log.ts";
import type { Capability, ConfigInput } from "../../src/schema/config.ts";
import type { Notification, Output } from "../../src/schema/host.ts";
import { CompletionRecordSchema, type MediaCheck } from "../../src/schema/record.ts";
import { createVirtualClock } from "../../src/session/clock.ts";
import { createSession } from "../../src/session/session.ts";
import type { SavedFile } from "../../src/session/transfer-hook.ts";
import { runTurn } from "../../src/session/turn.ts";
import { loadScenario, type Scenario, type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { createMemoryStatusStore } from "../../src/status/store.ts";
import { sniffMediaType } from "../../src/tokenhub/media-type.ts";
import { runFlow, TEST_KEY } from "../helpers/flow.ts";

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "tokenhub-multimodal-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh output folder per flow, so "nothing left behind" is checked on that flow alone. */
function outDir(): string {
  return join(root, `out-${++counter}`);
}

function media(
  capabilities: Capability[],
  dir: string,
  extra: Partial<NonNullable<ConfigInput["multimodal"]>> = {},
): ConfigInput {
  return { multimodal: { capabilities, outputDir: dir, ...extra } };
}

/**
 * What a session or a turn needs to run `capabilities` against `sim`: the test key in the environment (unless
 * `env` says otherwise), a memory store, a virtual clock, and a fresh output folder.
 */
function sessionOptions(
  sim: Simulator,
  capabilities: Capability[],
  env: Record<string, string> = { TOKENHUB_API_KEY: TEST_KEY },
) {
  return {
    config: { baseUrl: sim.baseUrl, ...media(capabilities, outDir()) },
    sources: { env, keychain: false as const },
    store: createMemoryStatusStore(),
    clock: createVirtualClock(),
    logger: silentLogger(),
  };
}

/** image-openai-b64 with `bytes` as the inline image. */
function inlineImage(name: string, bytes: Buffer): Scenario {
  const base = loadScenario("image-openai-b64");
  return {
    ...base,
    name,
    routes: {
      ...base.routes,
      "POST /v1/images/generations": [
        { body: { created: 1760000000, data: [{ b64_json: bytes.toString("base64") }] } },
      ],
    },
  } as Scenario;
}

function recordOf(output: Output | undefined) {
  assert.equal(output?.status, "complete", JSON.stringify(output));
  if (output?.status !== "complete") throw new Error("not complete");
  return CompletionRecordSchema.parse(output.record);
}

async function filesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function assertSaved(check: MediaCheck | undefined, kind: "image" | "video") {
  assert.equal(check?.status, "ok", JSON.stringify(check));
  const file = check?.file as string;
  const bytes = await readFile(file);
  assert.equal(bytes.length, check?.bytes);
  assert.ok(bytes.length > 0);
  assert.equal(sniffMediaType(bytes)?.kind, kind);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
}

describe("multimodal checks through a session", () => {
  it("image and video on the happy path: files saved and checked, task polled at the interval, record beside text", async () => {
    const dir = outDir();
    const r = await runFlow("happy", { config: media(["image", "video"], dir) });
    const record = recordOf(r.output);
    assert.equal(record.integration_status, "success");
    await assertSaved(record.multimodal?.image, "image");
    await assertSaved(record.multimodal?.video, "video");
    assert.ok((await readFile(record.multimodal?.image?.file as string)).subarray(0, 8).equals(PNG_MAGIC));
    assert.equal(record.multimodal?.image?.model, "wanx2.1-t2i-turbo");
    assert.match(record.multimodal?.video?.task_id ?? "", /^task-\d+$/);
    assert.equal(record.multimodal?.video?.polls, 3);
    assert.equal(
      record.notes,
      "TokenHub API is ready for production wiring.",
      "the checks report in their own section",
    );

    const calls = r.requests.map((q) => `${q.method} ${q.path}`);
    assert.deepEqual(calls, [
      "POST /v1/chat/completions",
      "POST /v1/images/generations",
      "GET /media/image.png",
      "POST /v1/video/generations",
      ...Array(3).fill(`GET /v1/video/tasks/${record.multimodal?.video?.task_id}`),
      "GET /media/video.mp4",
    ]);
    // The quickstart's requests by default (test/conformance compares their words with the page): the image
    // body, the plain video task body without DashScope's async header, and the model on every poll.
    assert.deepEqual(Object.keys((r.requests[1]?.body ?? {}) as object).sort(), ["model", "prompt", "size"]);
    assert.equal(r.requests[3]?.headers["x-dashscope-async"], undefined);
    assert.deepEqual(r.requests[3]?.body, {
      model: "wan2.6-t2v",
      prompt: "A robot walking in the rain, cinematic shot",
    });
    for (const poll of r.requests.filter((q) => q.path.startsWith("/v1/video/tasks/")))
      assert.equal(poll.query, "model=wan2.6-t2v");
    // Polls at the documented cadence (12 s by default), on the virtual clock.
    assert.deepEqual(
      r.sleeps.slice(-3).map((ms) => Math.round(ms / 1000)),
      [12, 12, 12],
    );
    // The key went to the API only: the media host got no credential of any kind.
    for (const q of r.requests.filter((q) => q.path.startsWith("/media/"))) {
      assert.equal(q.authorization, "absent");
      assert.deepEqual(q.keyLeaks, []);
      assert.equal(q.headers.cookie, undefined);
    }
    const progress = r.notifications.filter((n) => n.type === "progress" && n.capability);
    assert.ok(progress.some((n) => n.type === "progress" && n.capability === "image"));
    assert.ok(progress.some((n) => n.type === "progress" && /next poll in 12\.0 s/.test(n.detail ?? "")));
    assert.deepEqual(
      (await filesIn(dir)).sort(),
      [
        record.multimodal?.image?.file?.split("/").at(-1),
        record.multimodal?.video?.file?.split("/").at(-1),
      ].sort(),
    );
  });

  it("without opting in, no multimodal request is made and the record has no section", async () => {
    const r = await runFlow("happy");
    const record = recordOf(r.output);
    assert.equal(record.multimodal, undefined);
    assert.deepEqual(
      r.requests.map((q) => q.path),
      ["/v1/chat/completions"],
    );
  });

  for (const [scenario, shape] of [
    ["image-dashscope", "output.choices[].message.content[].image"],
    ["image-openai-url", "data[].url"],
    ["image-openai-b64", "data[].b64_json"],
  ] as const) {
    it(`reads the image from ${shape} (${scenario}) and saves a checked PNG`, async () => {
      const r = await runFlow(scenario, { config: media(["image"], outDir()) });
      const record = recordOf(r.output);
      await assertSaved(record.multimodal?.image, "image");
      assert.equal(record.multimodal?.image?.mime, "image/png");
      assert.equal(record.multimodal?.video, undefined);
      const downloads = r.requests.filter((q) => q.path.startsWith("/media/"));
      assert.equal(downloads.length, scenario === "image-openai-b64" ? 0 : 1);
    });
  }

  it("an inline b64_json image of real size (1.5 MB, past the 1 MiB chat cap) is read under the media cap", async () => {
    const png = Buffer.concat([PNG_MAGIC, randomBytes(1_500_000)]);
    const scenario = inlineImage("image-openai-b64-large", png);
    const r = await runFlow(scenario, { config: media(["image"], outDir()) });
    const image = recordOf(r.output).multimodal?.image;
    assert.equal(image?.status, "ok", JSON.stringify(image?.error));
    assert.equal(image?.bytes, png.length);
    assert.ok((await readFile(image?.file as string)).equals(png));
  });

  it("an inline image is still held to the media cap", async () => {
    const png = Buffer.concat([PNG_MAGIC, randomBytes(300_000)]);
    const scenario = inlineImage("image-openai-b64-over-cap", png);
    const config = media(["image"], outDir(), { maxDownloadBytes: 100_000 });
    const r = await runFlow(scenario, { config });
    const image = recordOf(r.output).multimodal?.image;
    assert.equal(image?.status, "failed");
    assert.equal(image?.file, null);
  });

  it("the SETUP event's preferences choose the checks instead of the config", async () => {
    const sim = await startSimulator({ scenario: "happy" });
    const options = sessionOptions(sim, ["image", "video"]);
    const { store } = options;
    const session = createSession(options);
    try {
      session.send({ type: "SETUP", preferences: { multimodal: ["image"] } });
      assert.equal(await session.untilRest(), "complete");
      assert.deepEqual(Object.keys(store.records.at(-1)?.multimodal ?? {}), ["image"]);
      session.send({ type: "CANCEL" }); // ignored at a final state
    } finally {
      await session.stop();
      await sim.close();
    }
  });

  it("video over the DashScope protocol: the async header, input and parameters, the same polls", async () => {
    const r = await runFlow("video-dashscope", {
      config: media(["video"], outDir(), { video: { protocol: "dashscope" } }),
    });
    const record = recordOf(r.output);
    await assertSaved(record.multimodal?.video, "video");
    const create = r.requests.find((q) => q.path === "/v1/video/generations");
    assert.equal(create?.headers["x-dashscope-async"], "enable");
    assert.deepEqual(Object.keys((create?.body ?? {}) as object).sort(), ["input", "model", "parameters"]);
    for (const poll of r.requests.filter((q) => q.path.startsWith("/v1/video/tasks/")))
      assert.equal(poll.query, "model=wan2.6-t2v");
  });

  it("video over the OpenAI-style protocol: no async header, lowercase statuses, URL from the task", async () => {
    const r = await runFlow("video-openai", {
      config: media(["video"], outDir(), { video: { protocol: "openai", pollIntervalMs: 10_000 } }),
    });
    const record = recordOf(r.output);
    await assertSaved(record.multimodal?.video, "video");
    const create = r.requests.find((q) => q.path === "/v1/video/generations");
    assert.equal(create?.headers["x-dashscope-async"], undefined);
    assert.deepEqual(Object.keys((create?.body ?? {}) as object).sort(), ["duration", "model", "prompt"]);
    assert.ok(r.sleeps.every((ms) => ms <= 10_000));
  });

  for (const [scenario, protocol, code, reason] of [
    ["video-failed", "dashscope", /^media_task_failed: DataInspectionFailed$/, /inappropriate content/],
    ["video-failed-openai", "openai", /^media_task_failed/, /./],
  ] as const) {
    it(`a video task that fails (${scenario}) is reported with its code and message; text stays complete`, async () => {
      const dir = outDir();
      const r = await runFlow(scenario, {
        config: media(["image", "video"], dir, { video: { protocol } }),
      });
      const record = recordOf(r.output);
      assert.equal(record.integration_status, "success");
      const video = record.multimodal?.video;
      assert.equal(video?.status, "failed");
      assert.match(video?.error?.code ?? "", code);
      assert.match(video?.error?.message ?? "", reason);
      assert.match(video?.task_id ?? "", /\w/);
      assert.equal(video?.file, null);
      assert.equal(r.requests.filter((q) => q.path === "/media/video.mp4").length, 0);
      assert.equal(record.notes, "TokenHub API is ready for production wiring.");
    });
  }

  it("a task that never finishes is given up at the deadline, with the last poll on it", async () => {
    const r = await runFlow("video-never-finishes", {
      config: media(["video"], outDir(), { video: { pollIntervalMs: 12_000, deadlineMs: 50_000 } }),
    });
    const video = recordOf(r.output).multimodal?.video;
    assert.equal(video?.status, "failed");
    assert.equal(video?.error?.code, "media_task_deadline");
    // 12, 24, 36, 48, then the last poll at the 50 s deadline itself.
    assert.equal(video?.polls, 5);
    assert.equal(r.requests.filter((q) => q.path.startsWith("/v1/video/tasks/")).length, 5);
    const waited = r.sleeps.slice(-5).reduce((a, b) => a + b, 0);
    assert.ok(waited >= 49_000 && waited <= 50_000, String(waited));
  });

  it("polls that keep failing give up after three in a row, and the message counts them right", async () => {
    const r = await runFlow("video-poll-down", { config: media(["video"], outDir()) });
    const video = recordOf(r.output).multimodal?.video;
    assert.equal(video?.error?.code, "media_poll_failed");
    assert.equal(video?.polls, 3);
    assert.match(video?.error?.message ?? "", /failed 3 times in a row\.$/);
  });

  it("a download over the cap fails the image check only, and leaves no file behind", async () => {
    const dir = outDir();
    const r = await runFlow("media-too-large", {
      config: media(["image"], dir, { maxDownloadBytes: 1024 * 1024 }),
    });
    const record = recordOf(r.output);
    assert.equal(record.integration_status, "success");
    assert.equal(record.multimodal?.image?.status, "failed");
    assert.equal(record.multimodal?.image?.error?.code, "media_too_large");
    assert.deepEqual(await filesIn(dir), []);
  });

  for (const [scenario, code] of [
    ["media-not-image", "media_wrong_type"],
    ["media-wrong-magic", "media_wrong_type"],
    ["media-too-large-chunked", "media_too_large"],
  ] as const) {
    it(`${scenario}: the check fails with ${code}, nothing is left in the folder`, async () => {
      const dir = outDir();
      const r = await runFlow(scenario, { config: media(["image"], dir, { maxDownloadBytes: 1024 * 1024 }) });
      const image = recordOf(r.output).multimodal?.image;
      assert.equal(image?.status, "failed");
      assert.equal(image?.error?.code, code);
      assert.deepEqual(await filesIn(dir), []);
    });
  }

  it("media on another origin: the file arrives, and that host never sees a credential", async () => {
    const mediaHost = await startSimulator({ scenario: "happy" });
    try {
      const dir = outDir();
      const r = await runFlow("happy", {
        config: media(["image", "video"], dir),
        simulator: { mediaOrigin: mediaHost.origin },
      });
      const record = recordOf(r.output);
      await assertSaved(record.multimodal?.image, "image");
      await assertSaved(record.multimodal?.video, "video");
      assert.deepEqual(
        r.requests.filter((q) => q.path.startsWith("/media/")),
        [],
        "the API origin served no media",
      );
      assert.deepEqual(
        mediaHost.requests.map((q) => `${q.method} ${q.path} ${q.authorization} ${q.keyLeaks.length}`),
        ["GET /media/image.png absent 0", "GET /media/video.mp4 absent 0"],
      );
      for (const q of mediaHost.requests) {
        assert.equal(q.headers.cookie, undefined);
        assert.equal(q.headers["proxy-authorization"], undefined);
        assert.ok(!JSON.stringify(q.headers).includes(TEST_KEY));
      }
    } finally {
      await mediaHost.close();
    }
  });

  it("CANCEL while waiting on the video ends the checks, not the integration: the task id is kept", async () => {
    const sim = await startSimulator({ scenario: "video-never-finishes" });
    const options = sessionOptions(sim, ["video"]);
    const { store } = options;
    const session = createSession(options);
    try {
      session.send({ type: "SETUP" });
      assert.equal(await session.untilRest({ restOnBackoffLongerThanMs: 1_000 }), "multimodal.videoWaiting");
      session.send({ type: "CANCEL", reason: "the user is done waiting" });
      assert.equal(await session.untilRest(), "complete");
      const video = store.records.at(-1)?.multimodal?.video;
      assert.equal(video?.status, "cancelled");
      assert.equal(video?.error?.message, "the user is done waiting");
      assert.match(video?.task_id ?? "", /^task-\d+$/);
      assert.equal(store.records.at(-1)?.integration_status, "success");
    } finally {
      await session.stop();
      await sim.close();
    }
  });

  it("a turn that ends while the video renders resumes from its snapshot and polls the same task", async () => {
    const sim = await startSimulator({ scenario: "happy" });
    const common = { ...sessionOptions(sim, ["video"]), maxWaitMs: 1_000 };
    const { clock } = common;
    try {
      const first = await runTurn({ ...common, event: { type: "SETUP" } });
      assert.equal(first.state, "multimodal.videoWaiting");
      const text = JSON.stringify(first.snapshot);
      assert.ok(!text.includes(TEST_KEY));
      let turn = first;
      let turns = 1;
      while (turn.state === "multimodal.videoWaiting") {
        clock.advance(12_000);
        turn = await runTurn({ ...common, snapshot: JSON.stringify(turn.snapshot) });
        turns += 1;
        assert.ok(turns < 10, "the task should finish within a few polls");
      }
      assert.equal(turn.state, "complete");
      await assertSaved(
        turn.output?.status === "complete" ? turn.output.record.multimodal?.video : undefined,
        "video",
      );
      assert.equal(sim.requests.filter((q) => q.path === "/v1/video/generations").length, 1, "one task only");
      assert.equal(
        sim.requests.filter((q) => q.path === "/v1/chat/completions").length,
        1,
        "text checked once",
      );
    } finally {
      await sim.close();
    }
  });

  it("stopped mid-poll (the host went away), then resumed from the last snapshot: same task, finished", async () => {
    // The poll answers slowly, so the session is stopped with the request in flight.
    const base = loadScenario("happy");
    const slow: Scenario = {
      ...base,
      name: "happy-slow-poll",
      routes: {
        ...base.routes,
        "GET /v1/video/tasks/{taskId}": (base.routes["GET /v1/video/tasks/{taskId}"] ?? []).map((step) => ({
          ...step,
          delayMs: 300,
        })),
      },
    };
    const sim = await startSimulator({ scenario: slow });
    const options = sessionOptions(sim, ["video"]);
    const { store, clock } = options;
    try {
      const first = createSession(options);
      const seen: Notification[] = [];
      first.subscribe((n) => seen.push(n));
      first.send({ type: "SETUP" });
      assert.equal(await first.untilRest({ restOnBackoffLongerThanMs: 1_000 }), "multimodal.videoWaiting");
      const lastRest = JSON.stringify(first.snapshot());
      // Let the wait end and the poll start, then stop while it is in flight.
      const polling = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (
            first.state === "multimodal.videoPolling" &&
            sim.requests.some((q) => q.path.startsWith("/v1/video/tasks/"))
          ) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
      clock.advance(12_000);
      await polling;
      await first.stop();
      assert.equal(store.records.length, 0, "nothing recorded by the stopped session");

      const second = createSession({ ...options, snapshot: lastRest });
      try {
        assert.equal(second.state, "multimodal.videoWaiting");
        assert.equal(await second.untilRest(), "complete");
        const video = store.records.at(-1)?.multimodal?.video;
        await assertSaved(video, "video");
        const created = sim.requests.filter((q) => q.path === "/v1/video/generations");
        assert.equal(
          created.length,
          1,
          "the restored session polled the task it had, it did not create another",
        );
        const polledIds = new Set(
          sim.requests.filter((q) => q.path.startsWith("/v1/video/tasks/")).map((q) => q.path),
        );
        assert.deepEqual([...polledIds], [`/v1/video/tasks/${video?.task_id}`]);
      } finally {
        await second.stop();
      }
    } finally {
      await sim.close();
    }
  });

  it("hands each saved file to the object-storage hook and records where it went; a failing hook fails only the transfer", async () => {
    const seen: SavedFile[] = [];
    const existed: boolean[] = [];
    const r = await runFlow("happy", {
      config: media(["image", "video"], outDir()),
      session: {
        transferHook: async (file) => {
          seen.push(file);
          existed.push((await stat(file.path)).size === file.bytes);
          if (file.capability === "video") throw new Error(`bucket unreachable with ${TEST_KEY}`);
          return { location: `s3://bucket/${file.path.split("/").at(-1)}` };
        },
      },
    });
    const record = recordOf(r.output);
    assert.deepEqual(
      seen.map((f) => f.capability),
      ["image", "video"],
    );
    assert.deepEqual(existed, [true, true]);
    assert.equal(seen[1]?.taskId, record.multimodal?.video?.task_id);
    assert.deepEqual(record.multimodal?.image?.transfer, {
      status: "ok",
      location: `s3://bucket/${record.multimodal?.image?.file?.split("/").at(-1)}`,
    });
    assert.equal(record.multimodal?.video?.status, "ok");
    assert.equal(record.multimodal?.video?.transfer?.status, "failed");
    assert.match(record.multimodal?.video?.transfer?.message ?? "", /bucket unreachable/);
    assert.ok(!JSON.stringify(record).includes(TEST_KEY), "the scrubber keeps the key out of a hook's error");
  });

  it("the hook as a command gets the file path and never TOKENHUB_API_KEY", async () => {
    const dump = join(root, `hook-env-${++counter}.json`);
    const script = `const fs=require("fs");fs.writeFileSync(${JSON.stringify(dump)},JSON.stringify({argv:process.argv.slice(1),env:process.env}));console.log("s3://bucket/"+require("path").basename(process.argv.at(-1)))`;
    const saved = process.env.TOKENHUB_API_KEY;
    process.env.TOKENHUB_API_KEY = TEST_KEY;
    try {
      const r = await runFlow("image-openai-b64", {
        config: media(["image"], outDir(), { transferCommand: [process.execPath, "-e", script] }),
      });
      const image = recordOf(r.output).multimodal?.image;
      const seen = JSON.parse(await readFile(dump, "utf8")) as {
        argv: string[];
        env: Record<string, string>;
      };
      assert.equal(seen.argv.at(-1), image?.file);
      assert.equal(seen.env.TOKENHUB_API_KEY, undefined);
      assert.equal(seen.env.TOKENHUB_MEDIA_FILE, image?.file);
      assert.equal(seen.env.TOKENHUB_MEDIA_KIND, "image");
      assert.ok(!JSON.stringify(seen.env).includes(TEST_KEY));
      assert.deepEqual(image?.transfer, {
        status: "ok",
        location: `s3://bucket/${image?.file?.split("/").at(-1)}`,
      });
    } finally {
      if (saved === undefined) delete process.env.TOKENHUB_API_KEY;
      else process.env.TOKENHUB_API_KEY = saved;
    }
  });

  it("a large download shows progress", async () => {
    const base = loadScenario("image-openai-url");
    const big: Scenario = {
      ...base,
      name: "image-big",
      routes: {
        ...base.routes,
        "GET /media/image.png": [{ media: "png", padBytes: 3 * 1024 * 1024, chunked: true }],
      },
    };
    const r = await runFlow(big, { config: media(["image"], outDir()) });
    await assertSaved(recordOf(r.output).multimodal?.image, "image");
    const lines = r.notifications.flatMap((n) =>
      n.type === "progress" && /downloaded/.test(n.detail ?? "") ? [n.detail ?? ""] : [],
    );
    assert.ok(lines.length >= 1, "at least one progress line");
    assert.match(lines.at(-1) ?? "", /3\.0 MB/);
  });
});

describe("multimodal checks across processes", () => {
  it("a key that lived only in the first process: the restored video check fails with media_key_lost and a remedy", async () => {
    const sim = await startSimulator({ scenario: "happy" });
    // No key anywhere in this process's environment: it is handed over in an event.
    const common = { ...sessionOptions(sim, ["video"], {}), maxWaitMs: 1_000 };
    const { clock } = common;
    try {
      const first = await runTurn({ ...common, event: { type: "SETUP" } });
      assert.equal(first.state, "awaitingKey");
      const second = await runTurn({
        ...common,
        event: { type: "KEY_PROVIDED", key: TEST_KEY },
        snapshot: JSON.stringify(first.snapshot),
      });
      assert.equal(second.state, "multimodal.videoWaiting");
      clock.advance(12_000);
      const third = await runTurn({ ...common, snapshot: JSON.stringify(second.snapshot) });
      assert.equal(third.state, "complete");
      const record = third.output?.status === "complete" ? third.output.record : undefined;
      assert.equal(record?.integration_status, "success");
      assert.equal(record?.multimodal?.video?.status, "failed");
      assert.equal(record?.multimodal?.video?.error?.code, "media_key_lost");
      assert.match(record?.multimodal?.video?.error?.remedy ?? "", /TOKENHUB_API_KEY/);
      assert.ok(!JSON.stringify(third).includes(TEST_KEY));
    } finally {
      await sim.close();
    }
  });
});
