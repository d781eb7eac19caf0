import {
  CONTRACT,
  type CompletionRecord,
  defaultStatusPath,
  ENV_VAR,
  EXIT,
  type KeyCheck,
  openKeyCheck,
  openKeys,
  readRecord,
  resolveConfig,
  TokenHubSetupError,
} from "../../session/index.ts";
import { type CliContext, stringOption } from "../context.ts";
import { keySourceWords } from "../key-words.ts";
import { terminalSafe } from "../terminal-text.ts";

/**
 * Shows the record, on stdout. Exit 0 only when the last run verified the integration: a success that a later
 * run could not confirm (no key found, cancelled before a request) is reported as older than that run, exit 1.
 * `--check` reads the key sources again and sends the quickstart's probe once, like `gh auth status`.
 */
export async function statusCommand(ctx: CliContext): Promise<number> {
  if (ctx.values.check === true) return checkNow(ctx);
  const path = stringOption(ctx.values, "status-file") ?? defaultStatusPath(ctx.io.env);
  let read: Awaited<ReturnType<typeof readRecord>>;
  try {
    read = await readRecord(path);
  } catch (err) {
    ctx.say(`tokenhub-setup: ${err instanceof TokenHubSetupError ? err.toLine() : (err as Error).message}`);
    return EXIT.failure;
  }
  // A later run that ended before any request (no key, cancelled) makes the record older than the last attempt.
  const { record, laterUnverifiedRun: stale } = read;
  if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(record ?? null, null, 2)}\n`);
  const staleLine = stale
    ? `${ctx.paint("yellow", "!")} The last run (${stale.at}) ended without a verdict: ${terminalSafe(stale.message)}${record ? " The record below is older." : ""}`
    : undefined;
  if (!record) {
    (ctx.json ? ctx.say : ctx.out)(
      [staleLine, `No integration recorded at ${path}. Run \`tokenhub-setup\` to verify one.`]
        .filter(Boolean)
        .join("\n"),
    );
    return EXIT.failure;
  }
  if (ctx.json) {
    if (staleLine) ctx.say(staleLine);
  } else ctx.out([...(staleLine ? [staleLine] : []), ...recordLines(ctx, record, path)].join("\n"));
  return record.integration_status === "success" && !stale ? EXIT.complete : EXIT.failure;
}

function recordLines(ctx: CliContext, record: CompletionRecord, path: string): string[] {
  const r = record.result;
  const ok = record.integration_status === "success";
  // A record is a file anyone could have edited: each field is one line, safe for the terminal.
  const field = (label: string, value: string) =>
    `  ${label.padEnd(12)} ${terminalSafe(value).replace(/\s*\n\s*/g, " ")}`;
  const last = record.last_success;
  return [
    ok
      ? ctx.paint("green", "✔ TokenHub integration complete")
      : ctx.paint(
          "red",
          record.failure?.code === "cancelled"
            ? "✖ TokenHub integration not verified: the last check was cancelled"
            : "✖ TokenHub integration failed",
        ),
    field("model", `${record.model} (${record.provider_mode})`),
    field("endpoint", `${record.endpoint} at ${r.base_url}`),
    ok ? field("validated", String(record.validated_at)) : field("attempted", r.attempted_at),
    field(
      "result",
      `HTTP ${r.http_status ?? "-"}, ${r.attempts} attempt(s), ${r.latency_ms ?? "-"} ms, ${r.key_source ? keySourceWords(r.key_source).key : "no key"}`,
    ),
    ...(record.failure
      ? [field("failure", record.failure.message), field("remedy", record.failure.remedy)]
      : []),
    ...(r.request_ids.length ? [field("request ids", r.request_ids.join(", "))] : []),
    ...Object.entries(record.multimodal ?? {}).map(([capability, check]) =>
      field(
        capability,
        `${check.status} with ${check.model}${check.task_id ? ` (task ${check.task_id})` : ""}${check.file ? `: ${check.file} (${check.bytes} bytes)` : ""}${check.error ? `: ${check.error.code}` : ""}`,
      ),
    ),
    ...(last
      ? [field("last success", `${last.model} at ${last.result.base_url}, validated ${last.validated_at}`)]
      : []),
    field("notes", record.notes),
    ...r.notices.map((notice) => field("notice", notice)),
    field("file", path),
  ];
}

/**
 * `status --check`: each key source as it stands now (masked), the one a run would use, and one live probe with
 * it (Step-3 and Step-4, no retries), without writing the record.
 */
async function checkNow(ctx: CliContext): Promise<number> {
  const config = resolveConfig({});
  const base = stringOption(ctx.values, "base-url") ?? config.baseUrl;
  const model = stringOption(ctx.values, "model") ?? CONTRACT.modelFormats[0];
  const found = await openKeys({ env: ctx.io.env, config }).find({ readAll: true });
  const { used } = found;
  const usedWords = used && `${keySourceWords(used.source).key} (${used.hint})`;

  let probe:
    | { verdict: string; ok: boolean; status: number | null; requestId: string | null; ms: number }
    | undefined;
  let code: number = EXIT.keyMissing;
  if (used) {
    let check: KeyCheck;
    try {
      check = openKeyCheck({ baseUrl: base, env: ctx.io.env, config });
    } catch (err) {
      ctx.say(`tokenhub-setup: ${err instanceof TokenHubSetupError ? err.toLine() : String(err)}`);
      return EXIT.usage;
    }
    // The probe can take up to the request timeout: say what is happening, and let Ctrl-C stop it cleanly.
    // The handler first, then the line: a Ctrl-C right after the line must find it in place.
    const stop = new AbortController();
    const removeInterrupt = ctx.io.onInterrupt?.(() => stop.abort());
    ctx.info(`Asking TokenHub at ${base} with ${usedWords}...`);
    try {
      const answer = await check.ask({ key: used.key, model, signal: stop.signal });
      if (!answer) {
        ctx.say("Cancelled: interrupted (Ctrl-C). Nothing was checked or written.");
        return EXIT.cancelled;
      }
      probe = {
        ok: answer.ok,
        status: answer.status,
        requestId: answer.requestId,
        ms: answer.latencyMs,
        verdict: answer.ok
          ? `TokenHub accepted it: ${model} answered (HTTP 200)`
          : answer.kind === "unauthorized"
            ? "TokenHub rejected it (HTTP 401)"
            : `the check failed: ${answer.message}`,
      };
      code = answer.exitCode;
    } finally {
      removeInterrupt?.();
      await check.close();
    }
  }

  // Each place as the JSON has always shown it: found with its masked key, or the problem's sentence.
  const reports = found.places.map((p) => ({
    source: p.source,
    found: p.found,
    ...(p.hint ? { hint: p.hint } : {}),
    ...(p.problem ? { problem: p.problem.message } : {}),
  }));
  if (ctx.json) {
    ctx.io.stdout.write(
      `${JSON.stringify(
        {
          base_url: base,
          sources: reports,
          used: used?.source ?? null,
          probe: probe
            ? {
                ok: probe.ok,
                http_status: probe.status,
                request_id: probe.requestId,
                latency_ms: probe.ms,
                verdict: probe.verdict,
              }
            : null,
        },
        null,
        2,
      )}\n`,
    );
    return code;
  }
  const lines = reports.map((r) => {
    const mark = r.problem
      ? ctx.paint("yellow", "!")
      : r.found
        ? ctx.paint("green", "✔")
        : ctx.paint("dim", "-");
    const what = r.problem ? `cannot be read: ${r.problem}` : r.found ? `key ${r.hint}` : "no key";
    const role =
      used?.source === r.source
        ? "  <- used"
        : r.found && used
          ? "  (not used: an earlier source has one)"
          : "";
    return `${mark} ${keySourceWords(r.source).place.padEnd(18)} ${what}${role}`;
  });
  const keychainWorks = reports.some((r) => r.source === "keychain" && !r.problem);
  if (!probe || !used)
    lines.push(
      ctx.paint(
        "red",
        `✖ No key to check. Create one at ${config.consoleUrl}, then ${keychainWorks ? "`npx tokenhub-setup key set`" : "(no OS keychain here) `npx tokenhub-setup key set --insecure-storage`"} or \`export ${ENV_VAR}=...\`.`,
      ),
    );
  else
    lines.push(
      `${probe.ok ? ctx.paint("green", "✔") : ctx.paint("red", "✖")} ${usedWords} at ${base}: ${terminalSafe(probe.verdict)} in ${probe.ms} ms${probe.requestId ? ` (request id ${probe.requestId})` : ""}.`,
    );
  ctx.out(lines.join("\n"));
  return code;
}
