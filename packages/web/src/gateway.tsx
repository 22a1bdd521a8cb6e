import { useCallback, useState, type FormEvent, type ReactNode } from 'react';
import { errorFromResponse, HangarError, type HangarClient } from '@hangar/sdk';
import type { Provider, ProviderType, PutProviderRequest, Route, Whoami } from '@hangar/protocol';
import { toHangarError, useRequest, useSubmit, type RequestState } from './api.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';
import { formatDuration } from './format.js';

// Typed against protocol's ProviderType, so a new type fails the build until it is described here
// (importing protocol's list would pull zod into the bundle).
const TYPE_HELP: Record<ProviderType, string> = {
  openai: 'api.openai.com, or another base URL that speaks its API',
  anthropic: 'api.anthropic.com',
  'openai-compatible': 'Ollama, vLLM, llama.cpp server, OpenRouter…: needs a base URL',
  scripted: 'offline: answers by rules from a JSON fixture',
  replay: 'offline: answers from calls recorded earlier, matched by request',
};
const TYPES = Object.keys(TYPE_HELP) as ProviderType[];

/**
 * The model gateway's configuration: the providers calls go to (keys write-only) and the routes
 * clients name as their model; and a call to try a model from the page.
 */
export function GatewayPage({ client, whoami, apiKey }: { client: HangarClient; whoami: Whoami | null; apiKey: string }) {
  const isAdmin = whoami?.key.role === 'admin';
  const loadProviders = useCallback(() => client.gateway.providers.list().then((r) => r.providers), [client]);
  const loadRoutes = useCallback(() => client.gateway.routes.list().then((r) => r.routes), [client]);
  const [providers, reloadProviders] = useRequest(loadProviders);
  const [routes, reloadRoutes] = useRequest(loadRoutes);
  const base = `${window.location.origin}/v1`;

  return (
    <section className="page">
      <h1>Gateway</h1>
      <p className="muted">
        Point the OpenAI SDK at <code>{base}</code> (the Anthropic SDK at <code>{window.location.origin}</code>) with a key
        for this project. The <code>model</code> a client sends is a route below, a <code>provider/model</code>, or{' '}
        <code>hangar/echo</code>; every call is traced with its cost.
      </p>

      <section className="panel" aria-labelledby="providers-heading">
        <div className="panel-head">
          <h2 id="providers-heading">Providers</h2>
          <p className="muted small">Where calls go. A provider&rsquo;s API key is stored encrypted and never shown again.</p>
        </div>
        {isAdmin ? <ProviderForm client={client} onSaved={reloadProviders} /> : null}
        <Loaded state={providers} what="providers" onRetry={reloadProviders}>
          {(list) => <ProvidersTable client={client} providers={list} canEdit={isAdmin} onRemoved={reloadProviders} />}
        </Loaded>
      </section>

      <section className="panel" aria-labelledby="routes-heading">
        <div className="panel-head">
          <h2 id="routes-heading">Routes</h2>
          <p className="muted small">
            A model name for clients: targets tried in order, each retried with backoff, the next one taken on a 429, a 5xx, a
            timeout or a connection error.
          </p>
        </div>
        {isAdmin ? <RouteForm client={client} onSaved={reloadRoutes} /> : null}
        <Loaded state={routes} what="routes" onRetry={reloadRoutes}>
          {(list) => <RoutesTable client={client} routes={list} canEdit={isAdmin} onRemoved={reloadRoutes} />}
        </Loaded>
      </section>

      {/* a read-only key may not call models */}
      {whoami && whoami.key.role !== 'read-only' ? <TryModel apiKey={apiKey} routes={routes.status === 'ok' ? routes.data : []} /> : null}
    </section>
  );
}

function Loaded<T>({ state, what, onRetry, children }: { state: RequestState<T[]>; what: string; onRetry: () => void; children: (data: T[]) => ReactNode }) {
  if (state.status === 'loading') return <p className="muted">Loading {what}…</p>;
  if (state.status === 'error') return <ErrorMessage error={state.error} onRetry={onRetry} />;
  if (state.data.length === 0) return <p className="muted">No {what} yet.</p>;
  return <>{children(state.data)}</>;
}

function ProviderForm({ client, onSaved }: { client: HangarClient; onSaved: () => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState<ProviderType>('openai');
  const [baseUrl, setBaseUrl] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [script, setScript] = useState('');
  const [busy, error, run] = useSubmit();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void run(async () => {
      const request: PutProviderRequest = { type };
      if (baseUrl.trim()) request.baseUrl = baseUrl.trim();
      // blank keeps the key a replaced provider already has
      if (apiKey) request.apiKey = apiKey;
      if (type === 'scripted') request.script = parseScript(script);
      await client.gateway.providers.put(name.trim(), request);
      setName('');
      setBaseUrl('');
      setApiKey('');
      onSaved();
    });
  };

  const online = type !== 'scripted' && type !== 'replay';
  return (
    <form className="config-form" onSubmit={submit} aria-label="Save provider">
      <Field label="Name">
        {(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. openai" required />}
      </Field>
      <Field label="Type">
        {(id) => (
          <select id={id} value={type} onChange={(e) => setType(e.target.value as ProviderType)}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        )}
      </Field>
      {online ? (
        <>
          <Field label="Base URL">
            {(id) => (
              <input
                id={id}
                type="url"
                value={baseUrl}
                onChange={(e) => setBaseUrl(e.target.value)}
                placeholder={type === 'openai-compatible' ? 'http://localhost:11434/v1' : 'the provider’s own'}
                required={type === 'openai-compatible'}
              />
            )}
          </Field>
          <Field label="API key">
            {(id) => (
              <input
                id={id}
                type="password"
                autoComplete="off"
                value={apiKey}
                onChange={(e) => setApiKey(e.target.value)}
                placeholder="blank keeps the stored one"
              />
            )}
          </Field>
        </>
      ) : null}
      {type === 'scripted' ? (
        <Field label="Script (JSON)">
          {(id) => (
            <textarea
              id={id}
              rows={4}
              value={script}
              onChange={(e) => setScript(e.target.value)}
              placeholder='{"rules": [{"match": {"lastUser": "weather"}, "reply": {"text": "Sunny."}}], "fallback": {"text": "I do not know."}}'
              required
            />
          )}
        </Field>
      ) : null}
      <button type="submit" className="primary" disabled={busy || !name.trim()}>
        Save provider
      </button>
      <p className="field-help muted small">
        <strong>{type}</strong>: {TYPE_HELP[type]}. Saving a name that exists replaces that provider.
      </p>
      {error ? <ErrorMessage error={error} /> : null}
    </form>
  );
}

/** The script text as JSON; a syntax error is reported like the server's validation errors. */
function parseScript(text: string): NonNullable<PutProviderRequest['script']> {
  try {
    return JSON.parse(text) as NonNullable<PutProviderRequest['script']>;
  } catch (e) {
    throw new HangarError(`The script is not JSON: ${(e as Error).message}`, { code: 'validation_failed', status: 400 });
  }
}

/** A remove button that asks once more before it acts. */
function RemoveButton({ label, onRemove }: { label: string; onRemove: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!confirming)
    return (
      <button type="button" onClick={() => setConfirming(true)} aria-label={`Remove ${label}`}>
        Remove
      </button>
    );
  return (
    <>
      <button
        type="button"
        className="danger"
        disabled={busy}
        aria-label={`Confirm removing ${label}`}
        onClick={() => {
          setBusy(true);
          void onRemove().finally(() => {
            setBusy(false);
            setConfirming(false);
          });
        }}
      >
        Remove now
      </button>
      <button type="button" className="ghost" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </>
  );
}

/**
 * A table of named configuration entries (providers, routes), each with a remove button for an admin;
 * a failed removal is shown above it.
 */
function ConfigTable<T extends { name: string }>({
  label,
  headers,
  rows,
  cells,
  canEdit,
  onRemove,
}: {
  label: string;
  headers: string[];
  rows: T[];
  cells: (row: T) => ReactNode[];
  canEdit: boolean;
  onRemove: (name: string) => Promise<void>;
}) {
  const [error, setError] = useState<HangarError | null>(null);
  const remove = async (name: string) => {
    setError(null);
    await onRemove(name).catch((e: unknown) => setError(toHangarError(e)));
  };
  const noun = label.toLowerCase().replace(/s$/, '');
  return (
    <div className="table-scroll">
      {error ? <ErrorMessage error={error} /> : null}
      <table className="keys" aria-label={label}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <td>
                <code>{row.name}</code>
              </td>
              {cells(row).map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
              <td className="row-actions">{canEdit ? <RemoveButton label={`${noun} ${row.name}`} onRemove={() => remove(row.name)} /> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ProvidersTable({ client, providers, canEdit, onRemoved }: { client: HangarClient; providers: Provider[]; canEdit: boolean; onRemoved: () => void }) {
  return (
    <ConfigTable
      label="Providers"
      headers={['Name', 'Type', 'Base URL', 'API key', 'Extra headers']}
      rows={providers}
      cells={(p) => [
        p.type,
        p.baseUrl ?? <span className="muted">default</span>,
        p.hasApiKey ? 'Stored' : <span className="muted">None</span>,
        p.headerNames.length ? p.headerNames.join(', ') : <span className="muted">—</span>,
      ]}
      canEdit={canEdit}
      onRemove={(name) => client.gateway.providers.remove(name).then(onRemoved)}
    />
  );
}

function RouteForm({ client, onSaved }: { client: HangarClient; onSaved: () => void }) {
  const [name, setName] = useState('');
  const [targets, setTargets] = useState('');
  const [retries, setRetries] = useState('2');
  const [cacheTtl, setCacheTtl] = useState('');
  const [busy, error, run] = useSubmit();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void run(async () => {
      await client.gateway.routes.put(name.trim(), {
        targets: targets.split(/[\s,]+/).filter(Boolean),
        retry: { maxRetries: Number(retries) },
        cache: cacheTtl.trim() ? { ttlSeconds: Number(cacheTtl) } : null,
      });
      setName('');
      setTargets('');
      setCacheTtl('');
      onSaved();
    });
  };

  return (
    <form className="config-form" onSubmit={submit} aria-label="Save route">
      <Field label="Route name">
        {(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. fast" required />}
      </Field>
      <Field label="Targets, in order">
        {(id) => (
          <input
            id={id}
            value={targets}
            onChange={(e) => setTargets(e.target.value)}
            placeholder="openai/gpt-4o-mini, anthropic/claude-haiku-4-5"
            required
          />
        )}
      </Field>
      <Field label="Retries per target">
        {(id) => <input id={id} type="number" min={0} max={10} value={retries} onChange={(e) => setRetries(e.target.value)} required />}
      </Field>
      <Field label="Cache (seconds)">
        {(id) => <input id={id} type="number" min={1} value={cacheTtl} onChange={(e) => setCacheTtl(e.target.value)} placeholder="off" />}
      </Field>
      <button type="submit" className="primary" disabled={busy || !name.trim() || !targets.trim()}>
        Save route
      </button>
      <p className="field-help muted small">
        The first target is the primary, the rest are fallbacks. Saving a name that exists replaces that route.
      </p>
      {error ? <ErrorMessage error={error} /> : null}
    </form>
  );
}

function RoutesTable({ client, routes, canEdit, onRemoved }: { client: HangarClient; routes: Route[]; canEdit: boolean; onRemoved: () => void }) {
  return (
    <ConfigTable
      label="Routes"
      headers={['Model name', 'Targets', 'Retries', 'Timeouts (per try / total)', 'Cache']}
      rows={routes}
      cells={(r) => [
        r.targets.join(' → '),
        r.retry.maxRetries,
        `${formatDuration(r.timeouts.perTryMs)} / ${formatDuration(r.timeouts.totalMs)}`,
        r.cache ? `${r.cache.ttlSeconds} s` : <span className="muted">Off</span>,
      ]}
      canEdit={canEdit}
      onRemove={(name) => client.gateway.routes.remove(name).then(onRemoved)}
    />
  );
}

interface Answer {
  text: string;
  traceId: string | null;
  target: string | null;
  ms: number;
}

/** One chat completion through the gateway with the key in use: the answer and a link to its trace. */
function TryModel({ apiKey, routes }: { apiKey: string; routes: Route[] }) {
  const [model, setModel] = useState('hangar/echo');
  const [message, setMessage] = useState('Hello!');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [busy, error, run] = useSubmit();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setAnswer(null);
    void run(async () => {
      const started = performance.now();
      const res = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: model.trim(), messages: [{ role: 'user', content: message }] }),
      });
      if (!res.ok) throw await errorFromResponse(res);
      const body = (await res.json()) as { choices?: { message?: { content?: string | null } }[] };
      setAnswer({
        text: body.choices?.[0]?.message?.content ?? '',
        traceId: res.headers.get('x-hangar-trace-id'),
        target: res.headers.get('x-hangar-target'),
        ms: performance.now() - started,
      });
    });
  };

  return (
    <section className="panel" aria-labelledby="try-heading">
      <div className="panel-head">
        <h2 id="try-heading">Try a model</h2>
        <p className="muted small">Sends one chat completion through the gateway with the key you signed in with; it is traced and costs what it costs.</p>
      </div>
      <form className="config-form" onSubmit={submit} aria-label="Try a model">
        <Field label="Model">
          {(id) => (
            <>
              <input id={id} list="gateway-models" value={model} onChange={(e) => setModel(e.target.value)} required />
              <datalist id="gateway-models">
                <option value="hangar/echo" />
                {routes.map((r) => (
                  <option key={r.name} value={r.name} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Message">
          {(id) => <input id={id} value={message} onChange={(e) => setMessage(e.target.value)} required />}
        </Field>
        <button type="submit" className="primary" disabled={busy || !model.trim() || !message}>
          {busy ? 'Sending…' : 'Send'}
        </button>
        {error ? <ErrorMessage error={error} /> : null}
      </form>
      {answer ? (
        <div className="try-answer" aria-label="Answer">
          <p className="message-text">{answer.text || <span className="muted">(no text: the answer was tool calls)</span>}</p>
          <p className="muted small">
            {answer.target ? <>Answered by <code>{answer.target}</code> in </> : 'Answered in '}
            {formatDuration(answer.ms)}.{' '}
            {answer.traceId ? <a href={`#/traces/${answer.traceId}`}>See its trace</a> : null}
          </p>
        </div>
      ) : null}
    </section>
  );
}
