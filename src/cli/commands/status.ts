import { TokenHubSetupError } from "../../errors.ts";
import { CONTRACT } from "../../schema/quickstart.ts";
import type { CompletionRecord } from "../../schema/record.ts";
import { maskKey, parseKey, type SecretKey } from "../../secrets/key.ts";
import { keyFilePath, readKeyFile } from "../../secrets/key-file.ts";
import { createKeychain } from "../../secrets/keychain.ts";
import { ENV_VAR } from "../../secrets/sources.ts";
import { EXIT } from "../../session/index.ts";
import { resolveConfig } from "../../session/session.ts";
import { isNewerThan, readLastAttempt } from "../../status/last-attempt.ts";
import { defaultStatusPath } from "../../status/paths.ts";
import { createFileStatusStore } from "../../status/store.ts";
import { classify } from "../../tokenhub/classify.ts";
import { createTokenHubClient } from "../../tokenhub/client.ts";
import { type CliContext, stringOption } from "../context.ts";
import { keyOrigin } from "../render.ts";
import { terminalSafe } from "../terminal-text.ts";

/**
 * Shows the record, on stdout. Exit 0 only when the last run verified the integration: a success that a later
 * run could not confirm (no key found, cancelled before a request) is reported as older than that run, exit 1.
 * `--check` reads the key sources again and sends the quickstart's probe once, like `gh auth status`.
 */
export async function statusCommand(ctx: CliContext): Promise<number> {
  if (ctx.values.check === true) return checkNow(ctx);
  const path = stringOption(ctx.values, "status-file") ?? defaultStatusPath(ctx.io.env);
  let record: CompletionRecord | undefined;
  try {
    record = await createFileStatusStore(path).read();
  } catch (err) {
    ctx.say(`tokenhub-setup: ${err instanceof TokenHubSetupError ? err.toLine() : (err as Error).message}`);
    return EXIT.failure;
  }
  const note = await readLastAttempt(path);
  const stale = isNewerThan(note, record?.result.attempted_at) ? note : undefined;
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
      `HTTP ${r.http_status ?? "-"}, ${r.attempts} attempt(s), ${r.latency_ms ?? "-"} ms, ${r.key_source ? keyOrigin(r.key_source) : "no key"}`,
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

interface SourceReport {
  source: "env" | "keychain" | "file";
  /** What a person calls it. */
  name: string;
  found: boolean;
  hint?: string;
  /** Why it could not be read (keychain unavailable, a malformed value). */
  problem?: string;
}

/**
 * `status --check`: each key source as it stands now (masked), the one a run would use, and one live probe with
 * it (Step-3 and Step-4, no retries), without writing the record.
 */
async function checkNow(ctx: CliContext): Promise<number> {
  const config = resolveConfig({});
  const base = stringOption(ctx.values, "base-url") ?? config.baseUrl;
  const model = stringOption(ctx.values, "model") ?? CONTRACT.modelFormats[0];
  const reports: SourceReport[] = [];
  let used: { key: SecretKey; report: SourceReport } | undefined;
  const consider = (report: SourceReport, raw: () => Promise<string | undefined>) =>
    raw().then(
      (value) => {
        if (value === undefined || value.trim() === "") return reports.push(report);
        try {
          const key = parseKey(value, report.source);
          const found = { ...report, found: true, hint: maskKey(key.reveal()) };
          reports.push(found);
          used ??= { key, report: found };
        } catch (err) {
          reports.push({ ...report, problem: err instanceof TokenHubSetupError ? err.message : "not a key" });
        }
      },
      (err: unknown) =>
        reports.push({ ...report, problem: err instanceof TokenHubSetupError ? err.message : String(err) }),
    );
  await consider({ source: "env", name: ENV_VAR, found: false }, async () => ctx.io.env[ENV_VAR]);
  await consider({ source: "keychain", name: "the OS keychain", found: false }, () =>
    createKeychain(config.keychainService, config.keychainAccount).get(),
  );
  const file = keyFilePath(ctx.io.env);
  await consider({ source: "file", name: "the key file", found: false }, () => readKeyFile(file));

  let probe:
    | { verdict: string; ok: boolean; status: number | null; requestId: string | null; ms: number }
    | undefined;
  let code: number = EXIT.keyMissing;
  if (used) {
    let client: ReturnType<typeof createTokenHubClient>;
    try {
      client = createTokenHubClient({
        baseUrl: base,
        timeouts: config.timeouts,
        maxResponseBytes: config.maxResponseBytes,
        env: ctx.io.env,
      });
    } catch (err) {
      ctx.say(`tokenhub-setup: ${err instanceof TokenHubSetupError ? err.toLine() : String(err)}`);
      return EXIT.usage;
    }
    // The probe can take up to the request timeout: say what is happening, and let Ctrl-C stop it cleanly.
    // The handler first, then the line: a Ctrl-C right after the line must find it in place.
    const stop = new AbortController();
    const removeInterrupt = ctx.io.onInterrupt?.(() => stop.abort());
    ctx.info(`Asking TokenHub at ${base} with ${keyOrigin(used.report.source)} (${used.report.hint})...`);
    try {
      const response = await client
        .chat({ model, stream: false, key: used.key, signal: stop.signal })
        .catch((err: unknown) => {
          if (stop.signal.aborted) return undefined;
          throw err;
        });
      if (!response || stop.signal.aborted) {
        ctx.say("Cancelled: interrupted (Ctrl-C). Nothing was checked or written.");
        return EXIT.cancelled;
      }
      const outcome = classify(response);
      const ok = outcome.kind === "ok";
      probe = {
        ok,
        status: outcome.status,
        requestId: outcome.requestId,
        ms: Math.round(outcome.latencyMs),
        verdict: ok
          ? `TokenHub accepted it: ${model} answered (HTTP 200)`
          : outcome.kind === "unauthorized"
            ? "TokenHub rejected it (HTTP 401)"
            : `the check failed: ${outcome.message}`,
      };
      code = ok
        ? EXIT.complete
        : outcome.kind === "unauthorized"
          ? EXIT.keyRejected
          : outcome.kind === "fatal" || (outcome.kind === "retryable" && outcome.reason === "unreachable")
            ? EXIT.localFault
            : EXIT.failure;
    } finally {
      removeInterrupt?.();
      await client.close();
    }
  }

  if (ctx.json) {
    ctx.io.stdout.write(
      `${JSON.stringify(
        {
          base_url: base,
          sources: reports.map(({ name: _, ...r }) => r),
          used: used?.report.source ?? null,
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
      used?.report === r ? "  <- used" : r.found && used ? "  (not used: an earlier source has one)" : "";
    return `${mark} ${r.name.padEnd(18)} ${what}${role}`;
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
      `${probe.ok ? ctx.paint("green", "✔") : ctx.paint("red", "✖")} ${keyOrigin(used.report.source)} (${used.report.hint}) at ${base}: ${terminalSafe(probe.verdict)} in ${probe.ms} ms${probe.requestId ? ` (request id ${probe.requestId})` : ""}.`,
    );
  ctx.out(lines.join("\n"));
  return code;
}
