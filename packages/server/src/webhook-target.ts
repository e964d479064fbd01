// SPDX-License-Identifier: MIT
// Where `srgan serve` may send a job's webhook (--webhook-allow), so that a client cannot turn the
// server against the network it sits in (SSRF). A callback URL must be http(s) to a host on the list,
// and every address its name resolves to must be public, unless the list names that address or its
// network. The check is made twice: when the job is submitted (a refusal is a 400 then), and when the
// webhook is sent, in the socket's own DNS lookup (pinnedLookup), so the connection goes to exactly
// the address that was checked: a name that re-resolves to 127.0.0.1 after the first check (DNS
// rebinding) is refused then.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { ServiceError } from "srgan-wasm";

/** Resolves a host name to all its addresses (dns.lookup with all: true; tests pass their own). */
export type Resolve = (host: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (host) => new Promise((resolve, reject) => {
  dnsLookup(host, { all: true, verbatim: true }, (e, addresses) => (e ? reject(e) : resolve(addresses)));
});

/**
 * Addresses that are not on the public internet: loopback, private, link-local, CGNAT, multicast,
 * reserved and documentation ranges, and the IPv6 forms that embed an IPv4 address (IPv4-compatible,
 * NAT64, 6to4, Teredo) whose IPv4 address could be any of these. IPv4-mapped IPv6 (::ffff:a.b.c.d) is matched by
 * BlockList against the IPv4 ranges.
 */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4]] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [["::", 96], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["100::", 64], ["2001::", 23], ["2001:db8::", 32], ["2002::", 16], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8]] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, "ipv6");
}

const family = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4");
const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A URL's host as matched and resolved: lower case, no IPv6 brackets, no trailing dot. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");

export class WebhookTargets {
  /** Host names allowed exactly, and the suffixes of `*.name` entries (with their dot). */
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  /** Addresses and networks named in the list: allowed as URL hosts and as resolved addresses. */
  private readonly addresses = new BlockList();

  /**
   * `allow`: host names (`hooks.example.com`), wildcards (`*.example.com`: its subdomains), IP
   * addresses and CIDR networks (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`). Throws a TypeError naming
   * `option` for anything else.
   */
  constructor(allow: readonly string[], option: string, private readonly resolve: Resolve = systemResolve) {
    for (const entry of allow) {
      const [address, bits, extra] = entry.split("/");
      const prefix = Number(bits);
      if (isIP(address) && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && prefix <= (isIP(address) === 6 ? 128 : 32)))) {
        if (bits === undefined) this.addresses.addAddress(address, family(address));
        else this.addresses.addSubnet(address, prefix, family(address));
      } else if (HOST_NAME.test(entry.toLowerCase())) {
        if (entry.startsWith("*.")) this.suffixes.push(entry.slice(1).toLowerCase());
        else this.names.add(entry.toLowerCase());
      } else {
        throw new TypeError(`${option} must list host names (hooks.example.com, *.example.com), IP addresses or CIDR networks (10.0.0.0/8), got '${entry}'`);
      }
    }
  }

  private permitted(address: string): boolean {
    return !NOT_PUBLIC.check(address, family(address)) || this.addresses.check(address, family(address));
  }

  private hostAllowed(host: string): boolean {
    if (isIP(host)) return this.addresses.check(host, family(host));
    return this.names.has(host) || this.suffixes.some((s) => host.endsWith(s));
  }

  /** A name's addresses, all of them permitted; else throws ServiceError 400 saying why. */
  private async addressesOf(host: string): Promise<LookupAddress[]> {
    let addresses: LookupAddress[];
    try {
      addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await this.resolve(host);
    } catch (e) {
      throw refused(`its host '${host}' cannot be resolved (${(e as { code?: string }).code ?? (e as Error).message})`);
    }
    const bad = addresses.find((a) => !this.permitted(a.address));
    if (bad) throw refused(`'${host}' resolves to ${bad.address}, which is not a public address (loopback, private, link-local or reserved); the operator may allow it by listing it in --webhook-allow`);
    if (addresses.length === 0) throw refused(`its host '${host}' has no address`);
    return addresses;
  }

  /** Checks a client's callback URL when it submits a job; returns it normalised. Throws ServiceError 400. */
  async check(callback: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(callback);
    } catch {
      throw refused("it is not an absolute URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw refused(`its scheme is ${url.protocol.slice(0, -1)}; only http and https are sent to`);
    if (url.username || url.password) throw refused("it carries a user name or password; webhooks are authenticated by their signature header instead");
    const host = bareHost(url);
    if (!this.hostAllowed(host)) throw refused(`its host '${host}' is not one this server sends webhooks to (its operator lists them with --webhook-allow)`);
    await this.addressesOf(host);
    return url.href;
  }

  /**
   * The DNS lookup for the webhook's socket (http.request's `lookup`): resolves the host again and
   * answers only addresses that pass the same checks, so the socket connects to a checked address.
   * An IP-literal host is not looked up by Node: `check` covers it.
   */
  readonly pinnedLookup: LookupFunction = (hostname, options, callback) => {
    this.addressesOf(hostname.replace(/\.$/, "")).then((addresses) => {
      const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
      if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: "ENOTFOUND" }), "", 0);
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
      else callback(null, wanted[0].address, wanted[0].family);
    }, (e: Error) => callback(e, "", 0));
  };

  /** Whether a URL's host is still on the list (checked again at delivery: the list may have changed). */
  allows(callback: string): boolean {
    return this.hostAllowed(bareHost(new URL(callback)));
  }
}

const refused = (why: string) => new ServiceError("ERR_BAD_REQUEST", 400, `callback refused: ${why}`);
