import type {
  AggregateGroupBy,
  AggregateReport,
  Account,
  AccountList,
  Budget,
  BudgetList,
  CreateAccountRequest,
  CreateBudgetRequest,
  CreateHoldRequest,
  CreateTransfersRequest,
  Hold,
  LedgerVerifyReport,
  Reservation,
  ReserveRequest,
  SettleRequest,
  Settlement,
  Transfer,
  TransferList,
  AppendRequest,
  AppendResponse,
  ApiKey,
  CreatedKey,
  CreatedProject,
  CreateKeyRequest,
  EventPage,
  Project,
  RetentionReport,
  SpanDetail,
  SpanPage,
  StreamList,
  TraceFilter,
  TracePage,
  TraceTree,
  UpdateProjectRequest,
  VerifyReport,
  Whoami,
  ReconciliationReport,
  OrganizationSpend,
} from '@hangar/protocol';
import { HangarError, errorFromResponse } from './errors.js';
import { evalsMethods } from './evals.js';
import { gatewayMethods } from './gateway.js';
import { identityMethods } from './identity.js';
import { paymentMethods } from './payments.js';
import { actionMethods } from './actions.js';
import type { Query } from './call.js';

export interface ClientOptions {
  /** Where Hangar listens, e.g. `http://127.0.0.1:7070`. */
  baseUrl: string;
  /** An API key (`hk_…`) or an agent credential (a JWT). */
  apiKey: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

/** A page request: `cursor` is the previous page's `nextCursor`. */
export interface PageOptions {
  cursor?: string;
  limit?: number;
}

/** A trace filter as query parameters: kinds joined by commas, attributes as `attr.<key>`. */
function filterQuery(filter: TraceFilter): Query {
  const { attributes, kind, ...rest } = filter;
  const query: Query = { ...rest, kind: Array.isArray(kind) ? kind.join(',') : kind };
  for (const [key, value] of Object.entries(attributes ?? {})) query[`attr.${key}`] = value;
  return query;
}

/**
 * A typed client for Hangar's HTTP API.
 * @example
 * const hangar = createClient({ baseUrl: 'http://127.0.0.1:7070', apiKey: process.env.HANGAR_API_KEY! });
 * const me = await hangar.whoami();
 */
export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  /** Sends a request (a JSON body, or text with its content type) and returns the response, or throws HangarError. */
  async function send(
    method: string,
    path: string,
    body: { json: unknown } | { text: string; contentType: string } | undefined,
    query?: Query,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: {
          ...headers,
          authorization: `Bearer ${options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'json' in body ? 'application/json' : body.contentType }),
        },
        body: body === undefined ? undefined : 'json' in body ? JSON.stringify(body.json) : body.text,
      });
    } catch (cause) {
      throw new HangarError(`Cannot reach Hangar at ${base}: ${(cause as Error).message}`, {
        code: 'network_error',
        status: 0,
        cause,
      });
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async function call<T>(method: string, path: string, body?: unknown, query?: Query, headers?: Record<string, string>): Promise<T> {
    const res = await send(method, path, body === undefined ? undefined : { json: body }, query, headers);
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
    organization: {
      /**
       * Span cost, calls and tokens of every project of the key's organization over [from, to), per
       * project and per UTC day and project. Admin keys only (another role, or a credential, gets `forbidden`).
       * @example
       * const { projects } = await hangar.organization.spend({ from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' });
       * for (const p of projects) console.log(p.projectName, p.costMicros / 1e6);
       */
      spend: (window: { from: string; to: string }) =>
        call<OrganizationSpend>('GET', '/v1/organization/spend', undefined, window),
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
    /**
     * Searching what was traced. Every search needs a window (`from`, `to`: RFC 3339 start times).
     * @example
     * const { traces } = await hangar.traces.list({ from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', model: 'gpt-4o' });
     * const tree = await hangar.traces.get(traces[0].traceId);
     */
    traces: {
      /** Spans matching the filter, newest first. */
      search: (filter: TraceFilter, page: PageOptions = {}) =>
        call<SpanPage>('GET', '/v1/spans', undefined, { ...filterQuery(filter), ...page }),
      /** One row per trace starting in the window that has a span matching the filter, newest first. */
      list: (filter: TraceFilter, page: PageOptions = {}) =>
        call<TracePage>('GET', '/v1/traces', undefined, { ...filterQuery(filter), ...page }),
      /** A trace as a tree: spans in depth-first order with their depth. */
      get: (traceId: string) => call<TraceTree>('GET', `/v1/traces/${encodeURIComponent(traceId)}`),
      /** A span with its input and output messages. */
      span: (traceId: string, spanId: string) =>
        call<SpanDetail>('GET', `/v1/traces/${encodeURIComponent(traceId)}/spans/${encodeURIComponent(spanId)}`),
      /**
       * Calls, errors, cost, tokens and p50/p95 latency by model, agent or UTC day; `percentiles: false`
       * skips the latencies (null) and is several times faster; `splitBy` adds a second dimension
       * (e.g. day × agent), one row per pair with its value in `split`.
       */
      aggregates: (
        filter: TraceFilter,
        groupBy: AggregateGroupBy,
        options: { percentiles?: boolean; splitBy?: AggregateGroupBy } = {},
      ) =>
        call<AggregateReport>('GET', '/v1/spans/aggregates', undefined, {
          ...filterQuery(filter),
          groupBy,
          ...(options.splitBy ? { splitBy: options.splitBy } : {}),
          ...(options.percentiles === false ? { percentiles: 'false' } : {}),
        }),
    },
    ledger: {
      createAccount: (request: CreateAccountRequest) => call<Account>('POST', '/v1/ledger/accounts', request),
      account: (id: string) => call<Account>('GET', `/v1/ledger/accounts/${encodeURIComponent(id)}`),
      accounts: (page: { kind?: string; cursor?: string; limit?: number } = {}) =>
        call<AccountList>('GET', '/v1/ledger/accounts', undefined, page),
      /** Linked: the transfers commit all or nothing. */
      transfer: (request: CreateTransfersRequest) => call<{ transfers: Transfer[] }>('POST', '/v1/ledger/transfers', request),
      transfers: (page: { accountId?: string; cursor?: string; limit?: number } = {}) =>
        call<TransferList>('GET', '/v1/ledger/transfers', undefined, page),
      hold: (request: CreateHoldRequest) => call<Hold>('POST', '/v1/ledger/holds', request),
      getHold: (id: string) => call<Hold>('GET', `/v1/ledger/holds/${encodeURIComponent(id)}`),
      post: (id: string, amountMicros?: number) =>
        call<Hold>('POST', `/v1/ledger/holds/${encodeURIComponent(id)}/post`, amountMicros === undefined ? {} : { amountMicros }),
      void: (id: string) => call<Hold>('POST', `/v1/ledger/holds/${encodeURIComponent(id)}/void`),
      verify: () => call<LedgerVerifyReport>('POST', '/v1/ledger/verify'),
      /** Hangar's costs against providers' reported costs, and the ledger against each rail's statement, over [from, to). */
      reconcile: (window: { from?: string; to?: string } = {}) =>
        call<ReconciliationReport>('GET', '/v1/reconciliation', undefined, window),
    },
    budgets: {
      create: (request: CreateBudgetRequest) => call<Budget>('POST', '/v1/budgets', request),
      list: () => call<BudgetList>('GET', '/v1/budgets'),
      get: (id: string) => call<Budget>('GET', `/v1/budgets/${encodeURIComponent(id)}`),
      /** Reserves an action's worst-case cost on every budget of its chain; `budget_exceeded` when one cannot pay. */
      reserve: (request: ReserveRequest) => call<Reservation>('POST', '/v1/budgets/reserve', request),
      settle: (request: SettleRequest) => call<Settlement>('POST', '/v1/budgets/settle', request),
    },
    ...identityMethods(call),
    ...paymentMethods(call),
    ...gatewayMethods(call, send),
    ...actionMethods(call),
    ...evalsMethods(call, send),
  };
}

/** The client returned by {@link createClient}. */
export type HangarClient = ReturnType<typeof createClient>;
