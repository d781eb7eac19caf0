import { access, constants, stat } from "node:fs/promises";
import { dirname } from "node:path";
import {
  CONTRACT,
  type Config,
  defaultStatusPath,
  ENV_VAR,
  EXIT,
  openKeys,
  probeReach,
  proxySettings,
  readBaseUrl,
  resolveConfig,
  TokenHubSetupError,
} from "../../session/index.ts";
import { type CliContext, stringOption } from "../context.ts";
import { keySourceWords } from "../key-words.ts";

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
    base = readBaseUrl(raw);
    checks.push({ name: "Base URL", status: "ok", detail: base.href });
  } catch (err) {
    checks.push({
      name: "Base URL",
      status: "fail",
      detail: err instanceof TokenHubSetupError ? err.toLine() : String(err),
    });
  }

  const proxy = proxySettings(env);
  checks.push({
    name: "Proxy",
    status: "ok",
    detail:
      proxy.https || proxy.http
        ? `used: ${withoutCredentials(proxy.https ?? proxy.http ?? "")}${proxy.noProxy ? ` (NO_PROXY=${proxy.noProxy})` : ""}`
        : "none set (direct connection)",
  });

  if (base) checks.push(...(await reachability(base, config, env)));

  const keys = openKeys({ env, config });
  const found = await keys.find();
  const keychainIssue = await keys.keychainProblem();
  // Advice that works here: `key set` only where a keychain answers.
  const storeAdvice = keychainIssue
    ? `put it in ${ENV_VAR} (\`export ${ENV_VAR}=...\`), or \`npx tokenhub-setup key set --insecure-storage\` (a plaintext file; no OS keychain here, see below)`
    : `run \`npx tokenhub-setup key set\` (OS keychain) or set ${ENV_VAR}`;
  checks.push({
    name: "Key",
    status: found.used ? "ok" : "warn",
    detail: found.used
      ? `found in ${keySourceWords(found.used.source, keys.keyFile).place} (not shown)`
      : // A key that is there but unusable (a key file others can read, a malformed variable) says why.
        `none usable; create one at ${config.consoleUrl} and ${storeAdvice}${found.notices
          .filter((n) => !/^OS keychain/.test(n))
          .map((n) => `. ${n}`)
          .join("")}`,
  });
  checks.push(
    keychainIssue
      ? {
          name: "Keychain",
          status: "warn",
          detail: `${keychainIssue.message} ${keychainIssue.remedy}`,
        }
      : { name: "Keychain", status: "ok", detail: "the OS keychain answers" },
  );

  const statusPath = stringOption(ctx.values, "status-file") ?? defaultStatusPath(env);
  checks.push(await writable(statusPath));

  if (ctx.json) ctx.io.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
  else {
    const mark = { ok: ctx.paint("green", "✔"), warn: ctx.paint("yellow", "!"), fail: ctx.paint("red", "✖") };
    ctx.out(checks.map((c) => `${mark[c.status]} ${c.name.padEnd(12)} ${c.detail}`).join("\n"));
  }
  return checks.some((c) => c.status === "fail") ? EXIT.failure : EXIT.complete;
}

/**
 * An unauthenticated GET of `models`, through the same connection setup as the flow (proxy included): any HTTP
 * answer proves DNS, TCP and TLS; the body says whether this is TokenHub's API at all (an API answers a request
 * without a key with a JSON error, a web server or a base URL without /v1 with a 404 page); the Date header
 * gives the clock skew.
 */
async function reachability(
  base: URL,
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Check[]> {
  const answer = await probeReach(base, { env, config });
  if (!answer.reached) {
    const { code, message, tls } = answer.failure;
    return [
      {
        name: "Reachable",
        status: "fail",
        detail:
          `${code}: ${message} ${tls ? "(TLS: check the clock, proxy and NODE_EXTRA_CA_CERTS)" : "(check the network, DNS and proxy)"}`.trim(),
      },
    ];
  }
  const ms = answer.latencyMs;
  const checks: Check[] = [
    {
      name: "Reachable",
      status: "ok",
      detail: `HTTP ${answer.status} in ${ms} ms${base.protocol === "https:" ? ", TLS ok" : ""}`,
    },
    apiCheck(base, answer.status, answer.contentType, answer.body),
  ];
  const date = Date.parse(answer.date ?? "");
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
}

/**
 * Does the base URL answer like TokenHub's API? Asked without a key, an OpenAI-compatible API answers with a
 * JSON error (or, if it lists models openly, a JSON list); anything else is another server or a wrong path.
 */
function apiCheck(base: URL, status: number, contentType: string, body: string): Check {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const value = (json ?? {}) as Record<string, unknown>;
  const apiError =
    (typeof value.error === "object" && value.error !== null) ||
    (typeof value.code === "string" && typeof value.message === "string");
  const list = value.object === "list" || Array.isArray(value.data);
  const versioned = /\/v\d+$/.test(base.pathname.replace(/\/+$/, ""));
  if ((apiError && status >= 400 && status !== 404 && status !== 405) || (list && status === 200)) {
    return versioned
      ? { name: "API", status: "ok", detail: `answers like TokenHub's API (HTTP ${status} without a key)` }
      : {
          name: "API",
          status: "warn",
          detail: `answers like an API, but the base URL's path does not end in a version (TokenHub's is ${CONTRACT.baseUrl}); check it`,
        };
  }
  const what = contentType.split(";")[0]?.trim() || "no content type";
  return {
    name: "API",
    status: "fail",
    detail: `HTTP ${status} (${what}) is not how TokenHub's API answers: check the base URL (TokenHub's is ${CONTRACT.baseUrl}${versioned ? "" : "; this one does not end in /v1"})`,
  };
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
  // A file where a folder must be (ENOTDIR on the first write) is as unwritable as a read-only folder.
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir)
    return {
      name: "Status file",
      status: "fail",
      detail: `${dir} is a file, not a folder, so ${path} cannot be written; choose another path with --status-file`,
    };
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
