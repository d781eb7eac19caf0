import { TokenHubSetupError } from "../../errors.ts";
import { defaultStatusPath } from "../../status/paths.ts";
import { createFileStatusStore } from "../../status/store.ts";
import { type CliContext, stringOption } from "../context.ts";
import { EXIT } from "../exit-codes.ts";

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
    ctx.say(
      [
        ok
          ? ctx.paint("green", "✔ TokenHub integration complete")
          : ctx.paint("red", "✖ TokenHub integration failed"),
        `  model        ${record.model} (${record.provider_mode})`,
        `  endpoint     ${record.endpoint} at ${r.base_url}`,
        ok ? `  validated    ${record.validated_at}` : `  attempted    ${r.attempted_at}`,
        `  result       HTTP ${r.http_status ?? "-"}, ${r.attempts} attempt(s), ${r.latency_ms ?? "-"} ms, key from ${r.key_source ?? "-"}`,
        ...(record.failure
          ? [`  failure      ${record.failure.message}`, `  remedy       ${record.failure.remedy}`]
          : []),
        ...Object.entries(record.multimodal ?? {}).map(
          ([capability, check]) =>
            `  ${capability.padEnd(12)} ${check.status} with ${check.model}${check.task_id ? ` (task ${check.task_id})` : ""}${check.file ? `: ${check.file} (${check.bytes} bytes)` : ""}${check.error ? `: ${check.error.code}` : ""}`,
        ),
        `  notes        ${record.notes}`,
        ...r.notices.map((notice) => `  notice       ${notice}`),
        `  file         ${path}`,
      ].join("\n"),
    );
  }
  return record.integration_status === "success" ? EXIT.complete : EXIT.failure;
}
