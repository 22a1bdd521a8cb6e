import { useCallback, type KeyboardEvent, type ReactNode } from 'react';
import type { HangarClient } from '@hangar/sdk';
import type { SpanDetail, TraceSpan, TraceTree } from '@hangar/protocol';
import { useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { formatCost, formatCount, formatDuration, formatTime } from './format.js';

/** One trace: its totals, the spans as a tree with a waterfall, and the selected span in detail. */
export function TraceView({
  client,
  traceId,
  spanId,
  backHref,
  spanHref,
}: {
  client: HangarClient;
  traceId: string;
  spanId: string | null;
  backHref: string;
  spanHref: (spanId: string) => string;
}) {
  const loadTrace = useCallback(() => client.traces.get(traceId), [client, traceId]);
  const [trace, reload] = useRequest(loadTrace);

  return (
    <section className="page page-wide">
      <a href={backHref} className="back-link">
        ← Traces
      </a>
      {trace.status === 'loading' ? (
        <p className="muted">Loading trace…</p>
      ) : trace.status === 'error' ? (
        <>
          <h1>Trace</h1>
          <ErrorMessage error={trace.error}>
            {trace.error.code === 'not_found' ? null : (
              <div className="actions">
                <button type="button" onClick={reload}>
                  Try again
                </button>
              </div>
            )}
          </ErrorMessage>
        </>
      ) : (
        <TraceBody client={client} trace={trace.data} spanId={spanId ?? trace.data.summary.rootSpanId} spanHref={spanHref} />
      )}
    </section>
  );
}

function TraceBody({
  client,
  trace,
  spanId,
  spanHref,
}: {
  client: HangarClient;
  trace: TraceTree;
  spanId: string;
  spanHref: (spanId: string) => string;
}) {
  const s = trace.summary;
  const start = Date.parse(s.startTime);
  const total = Math.max(s.durationMs, 1);
  const select = (id: string) => {
    window.location.hash = spanHref(id);
  };

  function onKey(event: KeyboardEvent<HTMLLIElement>, index: number) {
    const next = event.key === 'ArrowDown' ? index + 1 : event.key === 'ArrowUp' ? index - 1 : null;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select(trace.spans[index]!.spanId);
    } else if (next !== null && trace.spans[next]) {
      event.preventDefault();
      select(trace.spans[next].spanId);
      (event.currentTarget.parentElement?.children[next] as HTMLElement | undefined)?.focus();
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>{s.rootName}</h1>
        {s.errorCount ? <span className="badge status-error-badge">{s.errorCount} failed</span> : null}
      </div>
      <dl className="stats">
        <Stat label="Started">{formatTime(s.startTime)}</Stat>
        <Stat label="Duration">{formatDuration(s.durationMs)}</Stat>
        <Stat label="Spans">{s.spanCount}</Stat>
        <Stat label="Tokens">{formatCount(s.totalTokens)}</Stat>
        <Stat label="Cost">{formatCost(s.costMicros)}</Stat>
        <Stat label="Agent">{s.agent ?? '—'}</Stat>
        <Stat label="Models">{s.models.join(', ') || '—'}</Stat>
      </dl>
      {trace.truncated ? (
        <p className="notice small">This trace has {s.spanCount} spans; the first {trace.spans.length} are shown.</p>
      ) : null}
      <div className="trace-layout">
        <section className="panel flush waterfall" aria-labelledby="waterfall-heading">
          <div className="waterfall-head">
            <h2 id="waterfall-heading">Waterfall</h2>
            <span className="muted small">{formatDuration(s.durationMs)}</span>
          </div>
          <ul role="tree" aria-labelledby="waterfall-heading">
            {trace.spans.map((span, i) => (
              <li
                key={span.spanId}
                role="treeitem"
                aria-level={span.depth + 1}
                aria-selected={span.spanId === spanId}
                aria-label={`${span.name}, ${span.kind}, ${formatDuration(span.durationMs)}`}
                tabIndex={span.spanId === spanId ? 0 : -1}
                className={`span-row${span.status === 'error' ? ' is-error' : ''}`}
                onClick={() => select(span.spanId)}
                onKeyDown={(e) => onKey(e, i)}
              >
                <span className="span-label" style={{ paddingLeft: 8 + span.depth * 16 }}>
                  <span className={`kind kind-${span.kind}`}>{span.kind}</span>
                  <span className="span-name">{span.name}</span>
                </span>
                <span className="span-track" aria-hidden="true">
                  <span
                    className="span-bar"
                    style={{
                      left: `${((Date.parse(span.startTime) - start) / total) * 100}%`,
                      width: `max(2px, ${(span.durationMs / total) * 100}%)`,
                    }}
                  />
                </span>
                <span className="span-ms muted small">{formatDuration(span.durationMs)}</span>
              </li>
            ))}
          </ul>
        </section>
        <SpanPanel key={spanId} client={client} traceId={trace.traceId} spanId={spanId} listed={trace.spans.find((x) => x.spanId === spanId)} />
      </div>
    </>
  );
}

function Stat({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function SpanPanel({
  client,
  traceId,
  spanId,
  listed,
}: {
  client: HangarClient;
  traceId: string;
  spanId: string;
  listed: TraceSpan | undefined;
}) {
  const loadSpan = useCallback(() => client.traces.span(traceId, spanId), [client, traceId, spanId]);
  const [span] = useRequest(loadSpan);
  return (
    <section className="panel span-detail" aria-label="Span detail">
      {span.status === 'loading' ? (
        <p className="muted">Loading {listed?.name ?? 'span'}…</p>
      ) : span.status === 'error' ? (
        <ErrorMessage error={span.error} />
      ) : (
        <SpanBody span={span.data} />
      )}
    </section>
  );
}

function SpanBody({ span }: { span: SpanDetail }) {
  const u = span.usage;
  const tokens = [
    ['in', u.input],
    ['out', u.output],
    ['cache read', u.cacheRead],
    ['cache write', u.cacheWrite],
    ['reasoning', u.reasoning],
  ].filter((t): t is [string, number] => t[1] !== null);
  return (
    <>
      <div className="span-title">
        <span className={`kind kind-${span.kind}`}>{span.kind}</span>
        <h2>{span.name}</h2>
        <span className={`status status-${span.status}`}>{span.status}</span>
      </div>
      {span.status === 'error' ? (
        <div className="alert" role="note">
          <p>
            {span.errorType ? <strong>{span.errorType}: </strong> : null}
            {span.statusMessage ?? 'The span ended with an error.'}
          </p>
        </div>
      ) : null}
      <dl className="facts facts-2">
        <dt>Duration</dt>
        <dd>{formatDuration(span.durationMs)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(span.startTime)}</dd>
        {span.model ? (
          <>
            <dt>Model</dt>
            <dd>
              {span.model}
              {span.provider ? <span className="muted"> · {span.provider}</span> : null}
            </dd>
          </>
        ) : null}
        {span.agent ? (
          <>
            <dt>Agent</dt>
            <dd>{span.agent}</dd>
          </>
        ) : null}
        {span.toolName ? (
          <>
            <dt>Tool</dt>
            <dd>
              <code>{span.toolName}</code>
            </dd>
          </>
        ) : null}
        {tokens.length ? (
          <>
            <dt>Tokens</dt>
            <dd>{tokens.map(([k, v]) => `${formatCount(v)} ${k}`).join(' · ')}</dd>
          </>
        ) : null}
        {span.costMicros !== null || span.providerCostMicros !== null ? (
          <>
            <dt>Cost</dt>
            <dd>
              {formatCost(span.costMicros)}
              {span.providerCostMicros !== null ? (
                <span className={span.costDiffers ? 'cost-differs' : 'muted'}>
                  {' '}
                  · provider says {formatCost(span.providerCostMicros)}
                  {span.costDiffers ? ' (differs)' : ''}
                </span>
              ) : null}
            </dd>
          </>
        ) : null}
      </dl>
      <SpanIo span={span} />
      {Object.keys(span.attributes).length ? (
        <details className="attributes">
          <summary>Attributes ({Object.keys(span.attributes).length})</summary>
          <table className="data">
            <tbody>
              {Object.entries(span.attributes)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">
                      <code>{k}</code>
                    </th>
                    <td>
                      <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </>
  );
}

interface ToolCall {
  id: string | null;
  name: string;
  arguments: unknown;
}

interface ChatMessage {
  role: string;
  content: unknown;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  name?: string;
}

function isMessage(value: unknown): value is ChatMessage {
  return typeof value === 'object' && value !== null && typeof (value as { role?: unknown }).role === 'string';
}

/** Messages, if the value is one message or a list of them; otherwise null. */
function asMessages(value: unknown): ChatMessage[] | null {
  if (isMessage(value)) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every(isMessage)) return value;
  return null;
}

/** The input and output: a conversation for model calls, arguments and result for tools, else JSON. */
function SpanIo({ span }: { span: SpanDetail }) {
  const input = asMessages(span.input);
  const output = asMessages(span.output);
  if (input || output) {
    return (
      <section aria-label="Conversation" className="conversation">
        <h3>Conversation</h3>
        {(input ?? []).map((m, i) => (
          <Message key={`in-${i}`} message={m} />
        ))}
        {output ? (
          output.map((m, i) => <Message key={`out-${i}`} message={m} isOutput />)
        ) : span.output !== null ? (
          <Json label="Output" value={span.output} />
        ) : null}
        {!input && span.input !== null ? <Json label="Input" value={span.input} /> : null}
      </section>
    );
  }
  if (span.input === null && span.output === null) {
    return <p className="muted small">This span recorded no input or output.</p>;
  }
  const tool = span.kind === 'tool';
  return (
    <>
      {span.input !== null ? <Json label={tool ? 'Arguments' : 'Input'} value={span.input} /> : null}
      {span.output !== null ? <Json label={tool ? 'Result' : 'Output'} value={span.output} /> : null}
    </>
  );
}

function Message({ message, isOutput = false }: { message: ChatMessage; isOutput?: boolean }) {
  const text = textOf(message.content);
  return (
    <article className={`message role-${message.role}${isOutput ? ' is-output' : ''}`} aria-label={`${message.role} message`}>
      <header>
        <span className="role">{message.role}</span>
        {message.name ? <span className="muted small">{message.name}</span> : null}
        {message.toolCallId ? <span className="muted small">result of {message.toolCallId}</span> : null}
        {isOutput ? <span className="muted small">response</span> : null}
      </header>
      {text !== null ? <p className="message-text">{text}</p> : message.content === null || message.content === undefined ? null : <pre>{JSON.stringify(message.content, null, 2)}</pre>}
      {message.toolCalls?.map((call, i) => (
        <div key={call.id ?? i} className="tool-call">
          <span className="small">
            Tool call <code>{call.name}</code>
            {call.id ? <span className="muted"> · {call.id}</span> : null}
          </span>
          <pre>{typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments, null, 2)}</pre>
        </div>
      ))}
    </article>
  );
}

/** Text content as text: a string, or an array of parts whose text parts are joined. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every((p) => typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string')) {
    return content.map((p) => (p as { text: string }).text).join('\n');
  }
  return null;
}

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <section className="json-block" aria-label={label}>
      <h3>{label}</h3>
      <pre>{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>
    </section>
  );
}
