import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/api-error.js';
import { BLOCKED_CODE, createProviderNetwork, type ProviderNetworkOptions } from './provider-network.js';

/** A resolver with fixed answers (names not listed do not resolve). */
const dnsOf =
  (table: Record<string, string[]>): ProviderNetworkOptions['resolve'] =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const DNS = dnsOf({
  localhost: ['127.0.0.1', '::1'],
  'api.openai.com': ['162.159.140.245'],
  'ollama.lan': ['192.168.1.20'],
  'evil.example': ['169.254.169.254'],
  'mixed.example': ['93.184.215.14', '169.254.169.254'],
  'a.example.com': ['93.184.215.14'],
  'example.com': ['93.184.215.14'],
  'example.org': ['93.184.215.15'],
  'vllm.internal': ['10.1.2.3'],
});

async function verdict(network: ReturnType<typeof createProviderNetwork>, url: string): Promise<string> {
  try {
    await network.checkBaseUrl(url);
    return 'allowed';
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('provider_url_not_allowed');
    expect((err as ApiError).status).toBe(403);
    return 'refused';
  }
}

describe('provider network: where provider base URLs may point', () => {
  it('by default refuses cloud metadata and link-local addresses in any spelling, and allows the rest', async () => {
    const network = createProviderNetwork({ resolve: DNS });
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://169.254.170.2/v2/credentials', // ECS task credentials
      'http://2852039166/', // 169.254.169.254 as one number
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://[::ffff:169.254.169.254]/',
      'http://[64:ff9b::a9fe:a9fe]/', // through NAT64
      'http://[fd00:ec2::254]/latest',
      'http://[fe80::1]/',
      'http://metadata.google.internal/computeMetadata/v1',
      'http://METADATA.google.internal./',
      'http://100.100.100.200/latest', // Alibaba Cloud
      'http://168.63.129.16/', // Azure WireServer
      'http://evil.example/v1', // a name that resolves to the metadata address
      'http://mixed.example/v1', // …or to it among others
      'file:///etc/passwd',
    ]) {
      expect([url, await verdict(network, url)]).toEqual([url, 'refused']);
    }
    for (const url of [
      'http://localhost:11434/v1', // Ollama
      'http://127.0.0.1:8000/v1', // vLLM
      'http://0.0.0.0:11434/v1',
      'http://ollama.lan:11434/v1',
      'http://[::1]:8080/v1',
      'https://api.openai.com/v1',
      'https://not-resolvable.invalid/v1', // checked again at call time, when it resolves
    ]) {
      expect([url, await verdict(network, url)]).toEqual([url, 'allowed']);
    }
  });

  it('with denyPrivate refuses loopback and private addresses, by address or by what a name resolves to', async () => {
    const network = createProviderNetwork({ resolve: DNS, denyPrivate: true });
    for (const url of [
      'http://localhost:11434/v1',
      'http://127.0.0.1:8000/v1',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.0.0.5/',
      'http://172.20.0.1/',
      'http://192.168.1.20/',
      'http://ollama.lan/v1',
      'http://100.64.0.1/',
      'http://[fd12:3456::1]/',
    ]) {
      expect([url, await verdict(network, url)]).toEqual([url, 'refused']);
    }
    expect(await verdict(network, 'https://api.openai.com/v1')).toBe('allowed');
    expect(await verdict(network, 'https://example.org/v1')).toBe('allowed');
  });

  it('with an allow list takes only what it names — by host, *.domain, address or CIDR — never metadata', async () => {
    const network = createProviderNetwork({
      resolve: DNS,
      denyPrivate: true,
      allowedHosts: ['*.example.com', '203.0.113.0/24', 'vllm.internal', '10.9.9.9', '169.254.0.0/16'],
    });
    expect(await verdict(network, 'https://a.example.com/v1')).toBe('allowed');
    expect(await verdict(network, 'https://example.com/v1')).toBe('refused'); // *.example.com is the subdomains
    expect(await verdict(network, 'https://example.org/v1')).toBe('refused');
    expect(await verdict(network, 'http://203.0.113.7/v1')).toBe('allowed');
    // named explicitly, a private host is allowed although private ones are denied
    expect(await verdict(network, 'http://vllm.internal:8000/v1')).toBe('allowed');
    expect(await verdict(network, 'http://10.9.9.9/v1')).toBe('allowed');
    expect(await verdict(network, 'http://10.9.9.10/v1')).toBe('refused');
    expect(await verdict(network, 'http://169.254.169.254/')).toBe('refused'); // listing it changes nothing
    // the built-in base URLs' hosts need not be listed; a name that does not resolve must be listed
    expect(await verdict(network, 'https://api.openai.com/v1')).toBe('allowed');
    expect(await verdict(network, 'https://not-resolvable.invalid/v1')).toBe('refused');
  });

  it('refuses an allow list it cannot read, at start-up', () => {
    for (const entry of ['http://api.example.com', '10.0.0.0/33', 'api.example.com:443', '10.0.0.0/']) {
      expect(() => createProviderNetwork({ allowedHosts: [entry] })).toThrow(/HANGAR_PROVIDER_ALLOWED_HOSTS/);
    }
  });

  it('checks the address a connection is about to use: the lookup fails with BLOCKED_CODE', async () => {
    const network = createProviderNetwork({ resolve: DNS, denyPrivate: true });
    const lookup = (host: string, all: boolean) =>
      new Promise<{ code?: string; result?: unknown }>((resolve) =>
        network.lookup(host, { all }, (err, address) =>
          resolve(err ? { code: err.code } : { result: address }),
        ),
      );
    expect(await lookup('evil.example', false)).toEqual({ code: BLOCKED_CODE });
    expect(await lookup('localhost', true)).toEqual({ code: BLOCKED_CODE });
    expect(await lookup('metadata.google.internal', false)).toEqual({ code: BLOCKED_CODE });
    expect(await lookup('example.org', false)).toEqual({ result: '93.184.215.15' });
    expect(await lookup('example.org', true)).toEqual({ result: [{ address: '93.184.215.15', family: 4 }] });
    expect(await lookup('nowhere.invalid', false)).toEqual({ code: 'ENOTFOUND' });
    expect(network.refuseLiteral(new URL('http://127.0.0.1:8000/v1'))).toMatch(
      /HANGAR_PROVIDER_DENY_PRIVATE/,
    );
    expect(network.refuseLiteral(new URL('http://localhost:8000/v1'))).toBeNull(); // a name: the lookup checks it
  });
});
