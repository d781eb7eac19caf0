import { TokenHubSetupError } from "../../errors.ts";
import { defaultStatusPath } from "../../status/paths.ts";
import { createFileStatusStore } from "../../status/store.ts";
import { type CliContext, stringOption } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { terminalSafe } from "../terminal-text.ts";

/** Shows the record. Exit 0 only when an integration is recorded as complete. */
export async function statusCommand(ctx: CliContext): Promise<number> {
  const path = stringOption(ctx.values, "status-file") ?? defaultStatusPath(ctx.io.env);
  let record: Awaited<ReturnType<ReturnType<typeof createFileStatusStore>["read"]>>;
  try {
    record = await createFileStatusStore(path).read();
  } catch (err) {
    ctx.say(`tokenhub-setup: ${err instanceof TokenHubSetupError ? err.toLine() : (err as Error).message}`);
    return EXIT.failure;
  }
  if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(record ?? null, null, 2)}\n`);
  if (!record) {
    ctx.say(`No integration recorded at ${path}. Run \`tokenhub-setup\` to verify one.`);
    return EXIT.failure;
  }
  if (!ctx.json) {
    const r = record.result;
    const ok = record.integration_status === "success";
    // A record is a file anyone could have edited: each field is one line, safe for the terminal.
    const field = (label: string, value: string) =>
      `  ${label.padEnd(12)} ${terminalSafe(value).replace(/\s*\n\s*/g, " ")}`;
    ctx.say(
      [
        ok
          ? ctx.paint("green", "✔ TokenHub integration complete")
          : ctx.paint("red", "✖ TokenHub integration failed"),
        field("model", `${record.model} (${record.provider_mode})`),
        field("endpoint", `${record.endpoint} at ${r.base_url}`),
        ok ? field("validated", String(record.validated_at)) : field("attempted", r.attempted_at),
        field(
          "result",
          `HTTP ${r.http_status ?? "-"}, ${r.attempts} attempt(s), ${r.latency_ms ?? "-"} ms, key from ${r.key_source ?? "-"}`,
        ),
        ...(record.failure
          ? [field("failure", record.failure.message), field("remedy", record.failure.remedy)]
          : []),
        ...Object.entries(record.multimodal ?? {}).map(([capability, check]) =>
          field(
            capability,
            `${check.status} with ${check.model}${check.task_id ? ` (task ${check.task_id})` : ""}${check.file ? `: ${check.file} (${check.bytes} bytes)` : ""}${check.error ? `: ${check.error.code}` : ""}`,
          ),
        ),
        field("notes", record.notes),
        ...r.notices.map((notice) => field("notice", notice)),
        field("file", path),
      ].join("\n"),
    );
  }
  return record.integration_status === "success" ? EXIT.complete : EXIT.failure;
}
