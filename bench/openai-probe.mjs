// The `openai` client's equivalent of `tokenhub-setup --base-url URL --json`, as a person would write it: the
// quickstart's minimal request with the key from TOKENHUB_API_KEY, the check that the reply is "OK", a small
// record written durably (temp file, fsync, rename, directory fsync, as the CLI's store does) and printed as JSON. Plain JavaScript, so no type
// stripping is counted against it. bench/startup.ts runs it as a whole process beside the CLI.
//   TOKENHUB_API_KEY=... node bench/openai-probe.mjs BASE_URL RECORD_PATH

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import OpenAI from "openai";

const [baseURL, recordPath] = process.argv.slice(2);
if (!baseURL || !recordPath) throw new Error("usage: node bench/openai-probe.mjs BASE_URL RECORD_PATH");
const model = "deepseek-v3.2";
const client = new OpenAI({ apiKey: process.env.TOKENHUB_API_KEY, baseURL });
const started = performance.now();
const completion = await client.chat.completions.create({
  model,
  messages: [{ role: "user", content: "Reply with OK only." }],
  max_tokens: 32,
  temperature: 0,
});
const reply = completion.choices[0]?.message.content;
const ok = reply?.trim() === "OK";
const record = {
  integration_status: ok ? "success" : "failed",
  model,
  endpoint: "POST /v1/chat/completions",
  validated_at: ok ? new Date().toISOString() : null,
  result: { base_url: baseURL, response_id: completion.id, latency_ms: performance.now() - started },
};
const text = `${JSON.stringify(record, null, 2)}\n`;
const temp = `${recordPath}.${process.pid}.tmp`;
const fd = openSync(temp, "w", 0o600);
try {
  writeSync(fd, text);
  fsyncSync(fd);
} finally {
  closeSync(fd);
}
renameSync(temp, recordPath);
const dir = openSync(dirname(recordPath), "r");
try {
  fsyncSync(dir);
} finally {
  closeSync(dir);
}
process.stdout.write(text);
process.exitCode = ok ? 0 : 1;
