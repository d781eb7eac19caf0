import { isIP } from "node:net";
import { ConfigError } from "../errors.ts";

/**
 * Loopback by address, or the one name every hosts file maps to it. Not `*.localhost`, `localhost.` or
 * `ip6-localhost`: glibc resolves those through DNS unless the hosts file lists them, and whoever answers that
 * query would receive the key over plain http.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

/**
 * The key goes only to this origin, so the base URL is checked before anything is sent: `https:` always,
 * plain `http:` only for loopback (the simulator, a local proxy). Credentials in the URL are refused too: they
 * would end up in logs.
 */
export function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ConfigError("invalid_base_url", "The base URL is not a valid URL.", {
      remedy: "Use the form https://tokenhub.link/v1.",
      cause,
    });
  }
  if (url.username || url.password) {
    throw new ConfigError("invalid_base_url", "The base URL must not contain a user name or password.", {
      remedy: "Remove the credentials from the URL; the key is sent in the Authorization header.",
    });
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return url;
  throw new ConfigError(
    "insecure_base_url",
    `Refusing to send the key to ${url.protocol}//${url.host}: only https: is allowed (plain http: only on loopback).`,
    { remedy: "Use https://tokenhub.link/v1, or an https: proxy." },
  );
}

/**
 * `<base>/chat/completions`, whatever the base's trailing slash. The path is set on a copy of the base's
 * origin, never resolved as a reference: a base path such as `//elsewhere.example/v1` would otherwise be read
 * as a protocol-relative URL and carry the key to another host.
 */
export function endpointUrl(base: URL, path: string): URL {
  const prefix = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  const url = new URL(base.origin);
  url.pathname = `${prefix}${path.replace(/^\/+/, "")}`;
  return url;
}
