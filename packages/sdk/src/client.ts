import type {
  AppendRequest,
  AppendResponse,
  ApiKey,
  CreatedKey,
  CreatedProject,
  CreateKeyRequest,
  EventPage,
  Project,
  RetentionReport,
  StreamList,
  UpdateProjectRequest,
  VerifyReport,
  Whoami,
} from '@hangar/protocol';
import { HangarError, errorFromResponse } from './errors.js';
import { identityMethods } from './identity.js';

export interface ClientOptions {
  /** Where Hangar listens, e.g. `http://127.0.0.1:7070`. */
  baseUrl: string;
  /** An API key (`hk_…`) or an agent credential (a JWT). */
  apiKey: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

/**
 * A typed client for Hangar's HTTP API.
 * @example
 * const hangar = createClient({ baseUrl: 'http://127.0.0.1:7070', apiKey: process.env.HANGAR_API_KEY! });
 * const me = await hangar.whoami();
 */
export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  async function call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      throw new HangarError(`Cannot reach Hangar at ${base}: ${(cause as Error).message}`, {
        code: 'network_error',
        status: 0,
        cause,
      });
    }
    if (!res.ok) throw await errorFromResponse(res);
    return (await res.json()) as T;
  }

  return {
    /** The key in use, its project and organization. */
    whoami: () => call<Whoami>('GET', '/v1/whoami'),
    projects: {
      list: () => call<{ projects: Project[] }>('GET', '/v1/projects'),
      /** Creates a project in the same organization and returns an admin key for it (shown once). */
      create: (name: string) => call<CreatedProject>('POST', '/v1/projects', { name }),
      /** Updates the key's own project. */
      update: (changes: UpdateProjectRequest) => call<Project>('PATCH', '/v1/project', changes),
    },
    keys: {
      list: () => call<{ keys: ApiKey[] }>('GET', '/v1/keys'),
      create: (request: CreateKeyRequest) => call<CreatedKey>('POST', '/v1/keys', request),
      revoke: (id: string) => call<ApiKey>('DELETE', `/v1/keys/${encodeURIComponent(id)}`),
    },
    journal: {
      append: (stream: string, request: AppendRequest) =>
        call<AppendResponse>('POST', `/v1/streams/${encodeURIComponent(stream)}/events`, request),
      read: (stream: string, page: { afterSeq?: number; limit?: number } = {}) =>
        call<EventPage>('GET', `/v1/streams/${encodeURIComponent(stream)}/events`, undefined, page),
      streams: (page: { cursor?: string; limit?: number; prefix?: string } = {}) =>
        call<StreamList>('GET', '/v1/streams', undefined, page),
      verify: (stream?: string) => call<VerifyReport>('POST', '/v1/journal/verify', stream ? { stream } : {}),
      applyRetention: () => call<RetentionReport>('POST', '/v1/journal/retention'),
    },
    ...identityMethods(call),
  };
}

/** The client returned by {@link createClient}. */
export type HangarClient = ReturnType<typeof createClient>;
