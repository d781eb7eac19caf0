import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP } from "node:net";

/**
 * Addresses a media link from a remote API must not reach (server-side request forgery): this machine, the
 * local network, link-local and cloud metadata, and the ranges that are never a public host. Media comes from
 * object storage on the internet; only when the API itself is on loopback (the simulator, a local gateway) may
 * its links point at loopback too.
 */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24], // documentation (TEST-NET-1..3): never a public host, sometimes a local one
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const)
  PRIVATE.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed inside some networks)
  ["ff00::", 8], // multicast
] as const)
  PRIVATE.addSubnet(network, prefix, "ipv6");

/** Whether an IP address (v4, v6, or v4 inside v6: mapped or NAT64) is one a media link must not reach. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  const family = isIP(ip);
  if (family === 4) return PRIVATE.check(ip, "ipv4");
  if (family !== 6) return false;
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1] ?? embeddedHex(ip);
  if (embedded) return PRIVATE.check(embedded, "ipv4");
  return PRIVATE.check(ip, "ipv6");
}

/** `::ffff:7f00:1` (how URL parsing writes a mapped address) as 127.0.0.1. */
function embeddedHex(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (!m?.[1] || !m[2]) return undefined;
  const hi = Number.parseInt(m[1], 16);
  const lo = Number.parseInt(m[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** The error a refused address gives the connection; the download reports it as a refused link. */
export class PrivateAddressError extends Error {
  readonly code = "ERR_MEDIA_PRIVATE_ADDRESS";
  constructor(hostname: string, address: string) {
    super(`${hostname} resolves to ${address}, a private or local address`);
    this.name = "PrivateAddressError";
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
type Resolver = (
  hostname: string,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A `lookup` for net/tls connections that refuses a name resolving to any private address: a public-looking
 * host name can point at 127.0.0.1 or 169.254.169.254 (or be rebound to it), which no check of the URL's text
 * can see. Every address is checked, so a mixed answer is refused too.
 */
export function publicOnlyLookup(resolve: Resolver = systemResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, []);
      const usable = addresses.filter((a) => !family || a.family === family);
      const refused = usable.find((a) => isPrivateAddress(a.address));
      if (refused) return callback(new PrivateAddressError(hostname, refused.address), []);
      if (usable.length === 0) {
        const none = Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" });
        return callback(none, []);
      }
      if (options.all) return callback(null, usable);
      const first = usable[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
