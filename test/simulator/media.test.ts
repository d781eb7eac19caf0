// The multimodal side of the simulator (images, video tasks, media downloads), checked over real HTTP.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { crc32, inflateSync } from "node:zlib";
import {
  IMAGE_B64,
  MEDIA_CONTENT_TYPES,
  MEDIA_KINDS,
  type MediaKind,
  mediaBytes,
  parseScenario,
  type Scenario,
  type Simulator,
  startSimulator,
} from "../../src/simulator/index.ts";

const KEY = "sk-sim-media-7c31e0";
const CHAT_MODEL = "deepseek-v3.2";
const IMAGE_MODEL = "wanx2.1-t2i-turbo";
const VIDEO_MODEL = "wan2.6-t2v";

const MAGIC: Record<MediaKind, (bytes: Buffer) => boolean> = {
  png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  jpeg: (b) => b.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])),
  webp: (b) => b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP",
  gif: (b) => b.toString("latin1", 0, 6) === "GIF89a",
  mp4: (b) => b.toString("latin1", 4, 8) === "ftyp",
  webm: (b) => b.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])) && b.includes("webm"),
  html: (b) => b.toString("utf8").startsWith("<!doctype html>"),
};

/** A call to the API with the key (`key: null` sends none); JSON bodies are sent as JSON. */
function api(
  sim: Simulator,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string>; key?: string | null } = {},
): Promise<Response> {
  const key = init.key === undefined ? KEY : init.key;
  return fetch(`${sim.origin}${path}`, {
    method,
    headers: {
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

const chat = (sim: Simulator) =>
  api(sim, "POST", "/v1/chat/completions", {
    body: { model: CHAT_MODEL, messages: [{ role: "user", content: "Reply with OK only." }] },
  });

const generateImage = (sim: Simulator) =>
  api(sim, "POST", "/v1/images/generations", {
    body: { model: IMAGE_MODEL, prompt: "A futuristic city skyline at sunrise", size: "1024*1024" },
  });

const createDashScopeVideo = (sim: Simulator) =>
  api(sim, "POST", "/v1/video/generations", {
    headers: { "X-DashScope-Async": "enable" },
    body: { model: VIDEO_MODEL, input: { prompt: "a cat walking" }, parameters: { size: "1280*720" } },
  });

const createOpenAIVideo = (sim: Simulator) =>
  api(sim, "POST", "/v1/video/generations", {
    body: { model: VIDEO_MODEL, prompt: "a cat walking", duration: 5, width: 1280, height: 720 },
  });

const poll = (sim: Simulator, taskId: string) =>
  api(sim, "GET", `/v1/video/tasks/${encodeURIComponent(taskId)}?model=${VIDEO_MODEL}`);

/** Download as the skill must: no key, whatever the origin. */
async function download(url: string): Promise<{ res: Response; bytes: Buffer }> {
  const res = await fetch(url, { redirect: "manual" });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return (await res.json()) as T;
}

interface DashScopeTask {
  output: { task_id: string; task_status: string; video_url?: string; code?: string; message?: string };
  request_id: string;
  usage?: { video_count: number };
}

interface OpenAITask {
  id: string;
  object: string;
  status: string;
  model: string;
  video_url?: string;
  error?: { code: string; message: string };
}

/** Create a DashScope task, then poll `polls` times; the statuses seen, and the last poll's body. */
async function driveDashScope(
  sim: Simulator,
  polls: number,
): Promise<{ statuses: string[]; last: DashScopeTask }> {
  const created = await json<DashScopeTask>(await createDashScopeVideo(sim));
  const statuses = [created.output.task_status];
  let last = created;
  for (let i = 0; i < polls; i++) {
    const res = await poll(sim, created.output.task_id);
    assert.equal(res.status, 200);
    last = await json<DashScopeTask>(res);
    assert.equal(last.output.task_id, created.output.task_id);
    assert.equal(last.request_id, res.headers.get("x-request-id"));
    statuses.push(last.output.task_status);
  }
  return { statuses, last };
}

async function driveOpenAI(sim: Simulator, polls: number): Promise<{ statuses: string[]; last: OpenAITask }> {
  const created = await json<OpenAITask>(await createOpenAIVideo(sim));
  assert.equal(created.object, "video.generation.task");
  assert.equal(created.model, VIDEO_MODEL);
  const statuses = [created.status];
  let last = created;
  for (let i = 0; i < polls; i++) {
    last = await json<OpenAITask>(await poll(sim, created.id));
    assert.equal(last.id, created.id);
    assert.equal(last.object, "video.generation.task");
    assert.equal(last.model, VIDEO_MODEL, "the model comes from the poll's ?model=");
    statuses.push(last.status);
  }
  return { statuses, last };
}

/** The image URL of a DashScope-shaped image result. */
async function dashScopeImageUrl(res: Response): Promise<string> {
  assert.equal(res.status, 200);
  const body = await json<{
    output: { choices: { finish_reason: string; message: { role: string; content: { image: string }[] } }[] };
    usage: { image_count: number; width: number; height: number };
    request_id: string;
  }>(res);
  assert.equal(body.request_id, res.headers.get("x-request-id"));
  assert.deepEqual(body.usage, { image_count: 1, width: 1024, height: 1024 });
  const [choice] = body.output.choices;
  assert.equal(choice?.finish_reason, "stop");
  assert.equal(choice?.message.role, "assistant");
  const url = choice?.message.content[0]?.image;
  assert.ok(url !== undefined);
  return url;
}

/** Read the first `atLeast` bytes of a body, then walk away, as a client enforcing a size cap does. */
async function readSome(res: Response, atLeast: number): Promise<Buffer> {
  assert.ok(res.body);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < atLeast) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel();
  return Buffer.concat(chunks);
}

function mediaScenario(routes: Record<string, unknown[]>): Scenario {
  return parseScenario({ name: "media-inline", description: "inline media steps", routes });
}

describe("media steps", () => {
  let sim: Simulator;

  before(async () => {
    const routes = Object.fromEntries(
      MEDIA_KINDS.map((kind) => [`GET /media/file.${kind}`, [{ media: kind }]]),
    );
    sim = await startSimulator({ scenario: mediaScenario(routes) });
  });
  after(() => sim.close());

  for (const kind of MEDIA_KINDS) {
    it(`serves ${kind} with its content-type, magic bytes and an exact content-length`, async () => {
      const { res, bytes } = await download(`${sim.origin}/media/file.${kind}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), MEDIA_CONTENT_TYPES[kind]);
      assert.equal(Number(res.headers.get("content-length")), bytes.length);
      assert.ok(MAGIC[kind](bytes), `${kind} magic bytes: ${bytes.subarray(0, 16).toString("hex")}`);
      assert.deepEqual(bytes, mediaBytes(kind));
    });
  }

  it("uses the content-types a client expects for each kind", () => {
    assert.deepEqual(MEDIA_CONTENT_TYPES, {
      png: "image/png",
      jpeg: "image/jpeg",
      webp: "image/webp",
      gif: "image/gif",
      mp4: "video/mp4",
      webm: "video/webm",
      html: "text/html; charset=utf-8",
    });
  });

  it("makes the png a real 1x1 PNG: IHDR, IDAT and IEND with valid CRCs", () => {
    const png = mediaBytes("png");
    const chunks: { type: string; data: Buffer }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const type = png.toString("latin1", at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      assert.equal(png.readUInt32BE(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), type);
      chunks.push({ type, data });
      at += 12 + length;
    }
    assert.deepEqual(
      chunks.map((chunk) => chunk.type),
      ["IHDR", "IDAT", "IEND"],
    );
    const header = chunks[0]?.data;
    assert.ok(header);
    assert.deepEqual([header.readUInt32BE(0), header.readUInt32BE(4)], [1, 1]);
    // One scanline: the filter byte, then one RGBA pixel.
    assert.equal(inflateSync(chunks[1]?.data ?? Buffer.alloc(0)).length, 5);
  });

  it("pads media with padBytes, keeping the magic bytes and content-length exact", async () => {
    sim.useScenario(mediaScenario({ "GET /media/big.png": [{ media: "png", padBytes: 200_000 }] }));
    const { res, bytes } = await download(`${sim.origin}/media/big.png`);
    assert.equal(bytes.length, 200_000);
    assert.equal(Number(res.headers.get("content-length")), 200_000);
    assert.ok(MAGIC.png(bytes));
    assert.deepEqual(bytes.subarray(0, mediaBytes("png").length), mediaBytes("png"));
  });

  it("lets headers claim another content-type than the bytes", async () => {
    sim.useScenario(
      mediaScenario({ "GET /media/x.png": [{ media: "html", headers: { "Content-Type": "image/png" } }] }),
    );
    const { res, bytes } = await download(`${sim.origin}/media/x.png`);
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.ok(MAGIC.html(bytes));
  });

  it("cuts a media body with drop: mid-body", async () => {
    sim.useScenario(
      mediaScenario({ "GET /media/x.mp4": [{ media: "mp4", padBytes: 4096, drop: "mid-body" }] }),
    );
    const res = await fetch(`${sim.origin}/media/x.mp4`);
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer());
  });
});

describe("keyless media paths", () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it("answers /media/ without a key and records whether one was sent", async () => {
    const bare = await download(`${sim.origin}/media/image.png`);
    assert.equal(bare.res.status, 200);
    assert.ok(MAGIC.png(bare.bytes));
    const keyed = await api(sim, "GET", "/media/image.png");
    assert.equal(keyed.status, 200);
    await keyed.arrayBuffer();
    assert.deepEqual(
      sim.requests.map((r) => [r.path, r.authorization]),
      [
        ["/media/image.png", "absent"],
        ["/media/image.png", "present"],
      ],
    );
    assert.ok(!JSON.stringify(sim.requests).includes(KEY));
  });

  it("does not check the key on /media/, even a wrong one", async () => {
    const res = await api(sim, "GET", "/media/video.mp4", { key: "sk-not-accepted-1234" });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(sim.requests[0]?.authorization, "present");
  });

  it("answers an unknown /media/ path with a 404, not a 401", async () => {
    const { res } = await download(`${sim.origin}/media/nothing.png`);
    assert.equal(res.status, 404);
  });

  for (const [method, path] of [
    ["POST", "/v1/images/generations"],
    ["POST", "/v1/video/generations"],
    ["GET", "/v1/video/tasks/task-1"],
    ["POST", "/v1/chat/completions"],
    ["GET", "/media"],
    ["GET", "/mediaX/image.png"],
    ["GET", "/v1/media/image.png"],
  ] as const) {
    it(`still wants the key on ${method} ${path}`, async () => {
      const res = await api(sim, method, path, { key: null, ...(method === "POST" ? { body: {} } : {}) });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "invalid_api_key");
      assert.equal(sim.requests[0]?.authorization, "absent");
    });
  }
});

describe("media placeholders", () => {
  let sim: Simulator;
  const placeholders = mediaScenario({
    "POST /v1/video/generations": [
      {
        headers: { "x-task": "{{taskId}}" },
        body: {
          id: "{{taskId}}",
          again: "{{taskId}}",
          media: "{{mediaOrigin}}/media/a.png",
          b64: "{{imageB64}}",
        },
      },
    ],
    "GET /v1/video/tasks/{taskId}": [{ body: { id: "{{taskId}}", model: "{{model}}" } }],
  });

  before(async () => {
    sim = await startSimulator({ scenario: placeholders });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it("{{mediaOrigin}} is the simulator's own origin by default", async () => {
    const body = await json<{ media: string }>(await api(sim, "POST", "/v1/video/generations", { body: {} }));
    assert.equal(body.media, `${sim.origin}/media/a.png`);
  });

  it("{{mediaOrigin}} is the mediaOrigin option when given, without a trailing slash", async () => {
    const other = await startSimulator({ scenario: placeholders, mediaOrigin: "http://127.0.0.1:9/" });
    try {
      const body = await json<{ media: string }>(
        await api(other, "POST", "/v1/video/generations", { body: {} }),
      );
      assert.equal(body.media, "http://127.0.0.1:9/media/a.png");
    } finally {
      await other.close();
    }
  });

  it("{{imageB64}} is the base64 of the png media", async () => {
    const body = await json<{ b64: string }>(await api(sim, "POST", "/v1/video/generations", { body: {} }));
    assert.equal(body.b64, IMAGE_B64);
    assert.deepEqual(Buffer.from(body.b64, "base64"), mediaBytes("png"));
  });

  it("{{taskId}} is fresh per request, one value within a reply, and follows x-request-id", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await api(sim, "POST", "/v1/video/generations", { body: {} });
      const body = await json<{ id: string; again: string }>(res);
      assert.equal(body.again, body.id);
      assert.equal(res.headers.get("x-task"), body.id);
      assert.equal(body.id, res.headers.get("x-request-id")?.replace(/^req-/, "task-"));
      ids.push(body.id);
    }
    assert.deepEqual(ids, ["task-1", "task-2"]);
  });

  it("{{taskId}} is the id of the polled path", async () => {
    const res = await api(sim, "GET", `/v1/video/tasks/7d1e-a0b2?model=${VIDEO_MODEL}`);
    assert.deepEqual(await json(res), { id: "7d1e-a0b2", model: VIDEO_MODEL });
  });

  it("reset() restarts the task counter", async () => {
    await (await api(sim, "POST", "/v1/video/generations", { body: {} })).arrayBuffer();
    sim.reset();
    const body = await json<{ id: string }>(await api(sim, "POST", "/v1/video/generations", { body: {} }));
    assert.equal(body.id, "task-1");
  });
});

describe("multimodal scenarios", () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator({ acceptKeys: [KEY] });
  });
  after(() => sim.close());

  /** Switch scenario, forget what came before, and check the chat route answers OK first. */
  async function use(name: string): Promise<void> {
    sim.useScenario(name);
    sim.reset();
    const res = await chat(sim);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, "OK", `${name}: chat first`);
  }

  /** The media requests recorded so far, as path and authorization. */
  const mediaRequests = () =>
    sim.requests.filter((r) => r.path.startsWith("/media/")).map((r) => [r.path, r.authorization]);

  it("happy: an image, then a video polled PENDING, RUNNING, SUCCEEDED, both downloaded without the key", async () => {
    await use("happy");
    const imageUrl = await dashScopeImageUrl(await generateImage(sim));
    assert.equal(imageUrl, `${sim.origin}/media/image.png`);
    const image = await download(imageUrl);
    assert.equal(image.res.headers.get("content-type"), "image/png");
    assert.ok(MAGIC.png(image.bytes));

    const { statuses, last } = await driveDashScope(sim, 4);
    assert.deepEqual(statuses, ["PENDING", "PENDING", "RUNNING", "SUCCEEDED", "SUCCEEDED"]);
    assert.deepEqual(last.usage, { video_count: 1 });
    assert.equal(last.output.video_url, `${sim.origin}/media/video.mp4`);
    const video = await download(last.output.video_url);
    assert.equal(video.res.headers.get("content-type"), "video/mp4");
    assert.ok(MAGIC.mp4(video.bytes));

    const create = sim.requests.find((r) => r.path === "/v1/video/generations");
    assert.equal(create?.headers["x-dashscope-async"], "enable");
    assert.deepEqual(mediaRequests(), [
      ["/media/image.png", "absent"],
      ["/media/video.mp4", "absent"],
    ]);
  });

  it("happy: the created task's id is task-<n>, n from the create's x-request-id", async () => {
    await use("happy");
    const res = await createDashScopeVideo(sim);
    const body = await json<DashScopeTask>(res);
    assert.equal(body.output.task_id, "task-2");
    assert.equal(res.headers.get("x-request-id"), "req-2");
    assert.equal(body.request_id, "req-2");
  });

  it("happy with mediaOrigin: media URLs point at the other simulator, which serves them keyless", async () => {
    const media = await startSimulator({ scenario: "happy", acceptKeys: [KEY] });
    const apiSim = await startSimulator({ scenario: "happy", acceptKeys: [KEY], mediaOrigin: media.origin });
    try {
      const imageUrl = await dashScopeImageUrl(await generateImage(apiSim));
      assert.equal(imageUrl, `${media.origin}/media/image.png`);
      assert.ok(MAGIC.png((await download(imageUrl)).bytes));
      const { last } = await driveDashScope(apiSim, 3);
      assert.equal(last.output.video_url, `${media.origin}/media/video.mp4`);
      assert.ok(MAGIC.mp4((await download(last.output.video_url ?? "")).bytes));
      assert.deepEqual(
        media.requests.map((r) => [r.path, r.authorization]),
        [
          ["/media/image.png", "absent"],
          ["/media/video.mp4", "absent"],
        ],
      );
      assert.ok(apiSim.requests.every((r) => !r.path.startsWith("/media/")));
    } finally {
      await Promise.all([apiSim.close(), media.close()]);
    }
  });

  it("image-dashscope: the DashScope image shape with a PNG URL", async () => {
    await use("image-dashscope");
    const url = await dashScopeImageUrl(await generateImage(sim));
    assert.ok(MAGIC.png((await download(url)).bytes));
  });

  it("image-openai-url: data[0].url serving a PNG", async () => {
    await use("image-openai-url");
    const body = await json<{ created: number; data: { url: string }[] }>(await generateImage(sim));
    assert.equal(body.data[0]?.url, `${sim.origin}/media/image.png`);
    const { res, bytes } = await download(body.data[0]?.url ?? "");
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.ok(MAGIC.png(bytes));
  });

  it("image-openai-b64: data[0].b64_json is the PNG itself", async () => {
    await use("image-openai-b64");
    const body = await json<{ data: { b64_json: string }[] }>(await generateImage(sim));
    assert.deepEqual(Buffer.from(body.data[0]?.b64_json ?? "", "base64"), mediaBytes("png"));
  });

  it("image-failed: a 400 DataInspectionFailed", async () => {
    await use("image-failed");
    const res = await generateImage(sim);
    assert.equal(res.status, 400);
    const body = await json<{ code: string; request_id: string }>(res);
    assert.equal(body.code, "DataInspectionFailed");
    assert.equal(body.request_id, res.headers.get("x-request-id"));
  });

  it("video-dashscope: PENDING, RUNNING, then SUCCEEDED with an MP4", async () => {
    await use("video-dashscope");
    const { statuses, last } = await driveDashScope(sim, 3);
    assert.deepEqual(statuses, ["PENDING", "PENDING", "RUNNING", "SUCCEEDED"]);
    assert.ok(MAGIC.mp4((await download(last.output.video_url ?? "")).bytes));
  });

  it("video-openai: pending, processing, then completed with an MP4", async () => {
    await use("video-openai");
    const { statuses, last } = await driveOpenAI(sim, 4);
    assert.deepEqual(statuses, ["pending", "pending", "processing", "completed", "completed"]);
    assert.equal(last.video_url, `${sim.origin}/media/video.mp4`);
    assert.ok(MAGIC.mp4((await download(last.video_url ?? "")).bytes));
    assert.equal(
      sim.requests.find((r) => r.path === "/v1/video/generations")?.headers["x-dashscope-async"],
      undefined,
    );
  });

  it("video-failed: PENDING, then FAILED with a code and a message", async () => {
    await use("video-failed");
    const { statuses, last } = await driveDashScope(sim, 3);
    assert.deepEqual(statuses, ["PENDING", "PENDING", "FAILED", "FAILED"]);
    assert.equal(last.output.code, "DataInspectionFailed");
    assert.equal(last.output.message, "The input prompt may contain inappropriate content.");
    assert.equal(last.output.video_url, undefined);
  });

  it("video-failed-openai: pending, then failed with an error", async () => {
    await use("video-failed-openai");
    const { statuses, last } = await driveOpenAI(sim, 2);
    assert.deepEqual(statuses, ["pending", "pending", "failed"]);
    assert.equal(last.error?.code, "content_policy_violation");
    assert.ok((last.error?.message ?? "").length > 0);
  });

  it("video-never-finishes: RUNNING on every poll", async () => {
    await use("video-never-finishes");
    const { statuses } = await driveDashScope(sim, 6);
    assert.deepEqual(statuses, ["PENDING", ...Array<string>(6).fill("RUNNING")]);
  });

  it("media-too-large: a PNG announced and sent as 64 MiB", async () => {
    await use("media-too-large");
    const url = await dashScopeImageUrl(await generateImage(sim));
    const res = await fetch(url);
    assert.equal(res.headers.get("content-length"), String(64 * 1024 * 1024));
    assert.ok(MAGIC.png(await readSome(res, 1024 * 1024)));
  });

  it("media-too-large-chunked: the same PNG, chunked without content-length", async () => {
    await use("media-too-large-chunked");
    const url = await dashScopeImageUrl(await generateImage(sim));
    const res = await fetch(url);
    assert.equal(res.headers.get("content-length"), null);
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    const start = await readSome(res, 2 * 1024 * 1024);
    assert.ok(start.length >= 2 * 1024 * 1024);
    assert.ok(MAGIC.png(start));
  });

  it("media-not-image: the image URL serves an HTML page as text/html", async () => {
    await use("media-not-image");
    const { res, bytes } = await download(await dashScopeImageUrl(await generateImage(sim)));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.ok(MAGIC.html(bytes));
  });

  it("media-wrong-magic: content-type image/png over HTML bytes", async () => {
    await use("media-wrong-magic");
    const { res, bytes } = await download(await dashScopeImageUrl(await generateImage(sim)));
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.ok(!MAGIC.png(bytes));
    assert.ok(MAGIC.html(bytes));
  });

  it("media-expired: a 403 XML AccessDenied", async () => {
    await use("media-expired");
    const { res, bytes } = await download(await dashScopeImageUrl(await generateImage(sim)));
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("content-type"), "application/xml");
    assert.match(bytes.toString("utf8"), /<Code>AccessDenied<\/Code>/);
  });

  it("media-redirect-offsite: the API origin redirects to the media origin", async () => {
    const media = await startSimulator({ scenario: "media-redirect-offsite" });
    const apiSim = await startSimulator({ scenario: "media-redirect-offsite", mediaOrigin: media.origin });
    try {
      const url = await dashScopeImageUrl(await generateImage(apiSim));
      assert.equal(url, `${apiSim.origin}/media/image.png`);
      const hop = await download(url);
      assert.equal(hop.res.status, 302);
      assert.equal(hop.res.headers.get("location"), `${media.origin}/media/moved.png`);
      const followed = await fetch(url);
      assert.equal(followed.url, `${media.origin}/media/moved.png`);
      assert.ok(MAGIC.png(Buffer.from(await followed.arrayBuffer())));
      assert.deepEqual(
        media.requests.map((r) => [r.path, r.authorization]),
        [["/media/moved.png", "absent"]],
      );
    } finally {
      await Promise.all([apiSim.close(), media.close()]);
    }
  });

  it("media-redirect-offsite: without mediaOrigin the redirect stays on the simulator", async () => {
    await use("media-redirect-offsite");
    const url = await dashScopeImageUrl(await generateImage(sim));
    const res = await fetch(url);
    assert.equal(res.url, `${sim.origin}/media/moved.png`);
    assert.ok(MAGIC.png(Buffer.from(await res.arrayBuffer())));
  });

  it("every multimodal scenario serves chat, then the video of happy or its own", async () => {
    for (const name of ["image-openai-url", "image-openai-b64", "image-failed", "media-not-image"]) {
      await use(name);
      const { statuses } = await driveDashScope(sim, 3);
      assert.deepEqual(statuses, ["PENDING", "PENDING", "RUNNING", "SUCCEEDED"], name);
    }
    for (const name of ["video-openai", "video-failed", "video-never-finishes"]) {
      await use(name);
      assert.ok(MAGIC.png((await download(await dashScopeImageUrl(await generateImage(sim)))).bytes), name);
    }
  });
});
