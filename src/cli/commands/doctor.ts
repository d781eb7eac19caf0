import { access, constants } from "node:fs/promises";
import { dirname } from "node:path";
import { request } from "undici";
import { TokenHubSetupError } from "../../errors.ts";
import { createKeychain } from "../../secrets/keychain.ts";
import { resolveKey } from "../../secrets/sources.ts";
import { resolveConfig } from "../../session/session.ts";
import { defaultStatusPath } from "../../status/paths.ts";
import { proxyFromEnv } from "../../tokenhub/client.ts";
import { endpointUrl, parseBaseUrl } from "../../tokenhub/url.ts";
import { type CliContext, stringOption } from "../context.ts";
import { EXIT } from "../exit-codes.ts";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
}

const MIN_NODE = [22, 19] as const;
const SKEW_WARN_MS = 60_000;

/** One screen of checks, each with what it found and, when it is not fine, what to do. No key is sent. */
export async function doctorCommand(ctx: CliContext): Promise<number> {
  const env = ctx.io.env;
  const config = resolveConfig({});
  const checks: Check[] = [];

  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const nodeOk = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  checks.push({
    name: "Node.js",
    status: nodeOk ? "ok" : "fail",
    detail: nodeOk
      ? `${process.versions.node}`
      : `${process.versions.node}; tokenhub-setup needs 22.19 or newer`,
  });

  const raw = stringOption(ctx.values, "base-url") ?? config.baseUrl;
  let base: URL | undefined;
  try {
    base = parseBaseUrl(raw);
    checks.push({ name: "Base URL", status: "ok", detail: base.href });
  } catch (err) {
    checks.push({
      name: "Base URL",
      status: "fail",
      detail: err instanceof TokenHubSetupError ? err.toLine() : String(err),
    });
  }

  const proxy = proxyFromEnv(env);
  checks.push({
    name: "Proxy",
    status: "ok",
    detail:
      proxy.https || proxy.http
        ? `used: ${withoutCredentials(proxy.https ?? proxy.http ?? "")}${proxy.noProxy ? ` (NO_PROXY=${proxy.noProxy})` : ""}`
        : "none set (direct connection)",
  });

  if (base) checks.push(...(await reachability(base)));

  const found = await resolveKey(
    { env, keychain: createKeychain(config.keychainService, config.keychainAccount) },
    {},
  );
  checks.push({
    name: "Key",
    status: found.key ? "ok" : "warn",
    detail: found.key
      ? `found in ${found.key.source === "env" ? "TOKENHUB_API_KEY" : "the OS keychain"} (not shown)`
      : `none found; create one at ${config.consoleUrl} and run \`tokenhub-setup key set\` or set TOKENHUB_API_KEY`,
  });

  try {
    await createKeychain(config.keychainService, config.keychainAccount).get();
    checks.push({ name: "Keychain", status: "ok", detail: "the OS keychain answers" });
  } catch (err) {
    checks.push({
      name: "Keychain",
      status: "warn",
      detail: `${err instanceof TokenHubSetupError ? err.message : String(err)} TOKENHUB_API_KEY still works.`,
    });
  }

  const statusPath = stringOption(ctx.values, "status-file") ?? defaultStatusPath(env);
  checks.push(await writable(statusPath));

  if (ctx.json) ctx.io.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
  else {
    const mark = { ok: ctx.paint("green", "✔"), warn: ctx.paint("yellow", "!"), fail: ctx.paint("red", "✖") };
    for (const c of checks) ctx.say(`${mark[c.status]} ${c.name.padEnd(12)} ${c.detail}`);
  }
  return checks.some((c) => c.status === "fail") ? EXIT.failure : EXIT.complete;
}

/** An unauthenticated GET: any HTTP answer proves DNS, TCP and TLS; its Date header gives the clock skew. */
async function reachability(base: URL): Promise<Check[]> {
  const started = Date.now();
  try {
    const res = await request(endpointUrl(base, "models"), {
      method: "GET",
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
      signal: AbortSignal.timeout(8_000),
    });
    await res.body.dump();
    const ms = Date.now() - started;
    const checks: Check[] = [
      {
        name: "Reachable",
        status: "ok",
        detail: `HTTP ${res.statusCode} in ${ms} ms${base.protocol === "https:" ? ", TLS ok" : ""}`,
      },
    ];
    const date = Date.parse(String(res.headers.date ?? ""));
    if (Number.isNaN(date))
      checks.push({ name: "Clock", status: "warn", detail: "the server sent no Date header" });
    else {
      const skew = Math.round((Date.now() - ms / 2 - date) / 1000);
      checks.push({
        name: "Clock",
        status: Math.abs(skew) * 1000 > SKEW_WARN_MS ? "warn" : "ok",
        detail: `${skew >= 0 ? "+" : ""}${skew} s from the server's clock${Math.abs(skew) * 1000 > SKEW_WARN_MS ? "; fix the system clock (TLS and dates depend on it)" : ""}`,
      });
    }
    return checks;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string }; message?: string };
    const code = e.code ?? e.cause?.code ?? "error";
    const tls = /CERT|TLS|SSL/.test(code);
    return [
      {
        name: "Reachable",
        status: "fail",
        detail:
          `${code}: ${e.message ?? ""} ${tls ? "(TLS: check the clock, proxy and NODE_EXTRA_CA_CERTS)" : "(check the network, DNS and proxy)"}`.trim(),
      },
    ];
  }
}

async function writable(path: string): Promise<Check> {
  // The nearest folder that exists must be writable: the record's folder is created on the first write.
  let dir = dirname(path);
  for (;;) {
    try {
      await access(dir, constants.F_OK);
      break;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  try {
    await access(dir, constants.W_OK);
    return { name: "Status file", status: "ok", detail: `${path} (writable)` };
  } catch {
    return {
      name: "Status file",
      status: "fail",
      detail: `${dir} is not writable; choose another path with --status-file`,
    };
  }
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    return "(not a URL)";
  }
}
