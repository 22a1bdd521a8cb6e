import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ApiError } from '../http/api-error.js';

/**
 * Which network addresses the gateway may call providers on. Project admins set provider base URLs;
 * the server's operator decides where those may point. Cloud metadata endpoints and link-local
 * addresses are never allowed; private ranges (a self-hosted Ollama or vLLM) are, unless the operator
 * says otherwise. The check runs when a provider is saved and again on every new connection, on the
 * address the name resolved to, so a name that later resolves somewhere else (DNS rebinding) is
 * refused too.
 */
export interface ProviderNetworkOptions {
  /**
   * HANGAR_PROVIDER_ALLOWED_HOSTS: host names (`api.example.com`), wildcards (`*.example.com`), IP
   * addresses and CIDRs (`10.0.0.0/8`, `fd00::/8`). When set, base URLs must match one, by name or by
   * the address the name resolves to; an explicit entry also lifts `denyPrivate` for what it matches.
   * null or empty: any host.
   */
  allowedHosts?: string[] | null;
  /** HANGAR_PROVIDER_DENY_PRIVATE: refuse loopback, private (RFC 1918, unique-local), CGNAT and unspecified addresses. */
  denyPrivate?: boolean;
  /** Resolves a host name to its addresses (tests replace it; the default is the system resolver). */
  resolve?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}

export interface ProviderNetwork {
  /** Save time: throws `provider_url_not_allowed` for a base URL the gateway may not call. */
  checkBaseUrl(baseUrl: string): Promise<void>;
  /** Call time, for an IP-literal host (Node does not look those up): the reason it is refused, or null. */
  refuseLiteral(url: URL): string | null;
  /** Call time: a `lookup` for http.request that fails with BLOCKED_CODE when an address is refused. */
  lookup: LookupFunction;
}

/** The error code the guarded lookup fails a connection with. */
export const BLOCKED_CODE = 'EHANGAR_PROVIDER_ADDRESS';

/** The built-in base URLs' hosts: admins cannot point them anywhere, so an allow list needs not name them. */
const BUILT_IN_HOSTS = ['api.openai.com', 'api.anthropic.com'];

/** Names of cloud metadata services (they resolve to link-local addresses where they resolve at all). */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

function blockList(entries: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [address, prefix, type] of entries) list.addSubnet(address, prefix, type);
  return list;
}

/** Never allowed, whatever the operator lists: link-local, cloud metadata, multicast and reserved. */
const ALWAYS_DENIED = blockList([
  ['169.254.0.0', 16, 'ipv4'], // link-local: AWS, GCP, Azure, OCI, DigitalOcean metadata at 169.254.169.254, ECS at .170.2
  ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud metadata
  ['168.63.129.16', 32, 'ipv4'], // Azure WireServer (a public address that answers only inside Azure)
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['fe80::', 10, 'ipv6'], // link-local
  ['fd00:ec2::254', 128, 'ipv6'], // AWS metadata over IPv6
  ['ff00::', 8, 'ipv6'], // multicast
]);

/** Refused with denyPrivate: addresses that reach this machine or its private network. */
const PRIVATE = blockList([
  ['0.0.0.0', 8, 'ipv4'], // "this host": connecting to 0.0.0.0 reaches localhost
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT, also cloud-internal
  ['127.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'], // unique-local
]);

const NAT64 = blockList([['64:ff9b::', 96, 'ipv6']]);

const typeOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** The IPv4 address a NAT64 address (64:ff9b::a.b.c.d) reaches; IPv4-mapped ones BlockList handles itself. */
function viaNat64(address: string): string | null {
  if (typeOf(address) !== 'ipv6' || !NAT64.check(address, 'ipv6')) return null;
  const parts = new URL(`http://[${address}]`).hostname.slice(1, -1).split(':');
  const hi = parseInt(parts.at(-2) || '0', 16);
  const lo = parseInt(parts.at(-1) || '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

const inList = (list: BlockList, address: string) => {
  const v4 = viaNat64(address);
  return list.check(address, typeOf(address)) || (v4 !== null && list.check(v4, 'ipv4'));
};

/** A host as the URL parser gives it, without IPv6 brackets or a trailing dot, in lower case. */
const normalHost = (hostname: string) =>
  hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();

const HOST_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

function parseAllowed(entries: string[]) {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const ranges = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const [address, prefix, ...rest] = entry.split('/');
    const type = isIP(address!);
    if (type && rest.length === 0) {
      const bits = prefix === undefined ? (type === 4 ? 32 : 128) : Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (type === 4 ? 32 : 128) || prefix === '')
        throw new Error(`HANGAR_PROVIDER_ALLOWED_HOSTS: '${raw}' has an invalid prefix length.`);
      ranges.addSubnet(address!, bits, type === 4 ? 'ipv4' : 'ipv6');
    } else if (prefix === undefined && HOST_NAME.test(entry)) {
      if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
      else names.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(
        `HANGAR_PROVIDER_ALLOWED_HOSTS: '${raw}' is not a host name, *.domain, IP address or CIDR (no scheme or port).`,
      );
    }
  }
  for (const host of BUILT_IN_HOSTS) names.add(host);
  return {
    name: (host: string) => names.has(host) || suffixes.some((s) => host.endsWith(s)),
    address: (address: string) => inList(ranges, address),
  };
}

const systemResolve = async (hostname: string) =>
  dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Throws (at start-up) when HANGAR_PROVIDER_ALLOWED_HOSTS has an entry it cannot read. */
export function createProviderNetwork(options: ProviderNetworkOptions = {}): ProviderNetwork {
  const allowed = options.allowedHosts?.some((e) => e.trim()) ? parseAllowed(options.allowedHosts) : null;
  const denyPrivate = options.denyPrivate ?? false;
  const resolve = options.resolve ?? systemResolve;
  /** IP-literal hosts of provider URLs, and why each is refused (null: it is not). */
  const literals = new Map<string, string | null>();

  /** Why `host` (a name, or an address) reached at `address` may not be called; null when it may. */
  function refusal(host: string, address: string): string | null {
    if (inList(ALWAYS_DENIED, address))
      return `${address} is a link-local, cloud metadata or reserved address, which providers may never be on`;
    const explicit = allowed !== null && (allowed.name(host) || allowed.address(address));
    if (allowed && !explicit)
      return `${host === address ? host : `${host} (${address})`} is not in the server's HANGAR_PROVIDER_ALLOWED_HOSTS`;
    if (denyPrivate && !explicit && inList(PRIVATE, address))
      return `${address} is a private or loopback address, and the server sets HANGAR_PROVIDER_DENY_PRIVATE`;
    return null;
  }

  function nameRefusal(host: string): string | null {
    return METADATA_NAMES.has(host)
      ? `${host} is a cloud metadata host, which providers may never be on`
      : null;
  }

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const host = normalHost(hostname);
    const fail = (message: string) =>
      callback(Object.assign(new Error(message), { code: BLOCKED_CODE }), '', 4);
    const byName = nameRefusal(host);
    if (byName) return fail(byName);
    resolve(hostname).then(
      (addresses) => {
        // every address the name has is checked, not only the one connected to: a name that mixes a
        // public address with a metadata one is refused
        for (const a of addresses) {
          const why = refusal(host, a.address);
          if (why) return fail(why);
        }
        const family =
          lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        const first = usable[0];
        if (!first)
          return callback(
            Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
            '',
            4,
          );
        if (lookupOptions.all) return callback(null, usable);
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };

  return {
    async checkBaseUrl(baseUrl) {
      const url = new URL(baseUrl);
      const refuse = (why: string): never => {
        throw new ApiError('provider_url_not_allowed', `The server may not call ${url.origin}: ${why}.`, {
          details: { baseUrl, host: normalHost(url.hostname) },
        });
      };
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        refuse('providers are called over http or https');
      const host = normalHost(url.hostname);
      const byName = nameRefusal(host);
      if (byName) refuse(byName);
      if (isIP(host)) {
        const why = refusal(host, host);
        if (why) refuse(why);
        return;
      }
      let addresses: Array<{ address: string }>;
      try {
        addresses = await Promise.race([
          resolve(host),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
        ]);
      } catch {
        // not resolvable from here now: the check at call time still applies to whatever it resolves to then
        if (allowed && !allowed.name(host))
          refuse(`${host} is not in the server's HANGAR_PROVIDER_ALLOWED_HOSTS`);
        return;
      }
      for (const { address } of addresses) {
        const why = refusal(host, address);
        if (why) refuse(why);
      }
    },

    refuseLiteral(url) {
      // the answer for a host never changes in a process: checked once, not on every call
      let verdict = literals.get(url.hostname);
      if (verdict === undefined) {
        const host = normalHost(url.hostname);
        verdict = isIP(host) ? refusal(host, host) : null;
        if (literals.size >= 1000) literals.clear();
        literals.set(url.hostname, verdict);
      }
      return verdict;
    },

    lookup,
  };
}
