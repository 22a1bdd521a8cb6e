import { useCallback, useState, type FormEvent } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { VerifyReport } from '@hangar/protocol';
import { toHangarError, useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';

/**
 * The audit log: every stream of the project's hash-chained journal, its events filtered by type, and
 * a check that recomputes every hash (what `hangar audit verify` does).
 */
export function AuditPage({ client }: { client: HangarClient }) {
  const [prefix, setPrefix] = useState('');
  const [applied, setApplied] = useState('');
  const loadStreams = useCallback(
    () =>
      client.journal.streams({ limit: 200, ...(applied ? { prefix: applied } : {}) }).then((r) => r.streams),
    [client, applied],
  );
  const [streams] = useRequest(loadStreams);
  const [selected, setSelected] = useState<string | null>(null);
  const [report, setReport] = useState<VerifyReport | null>(null);
  const [error, setError] = useState<HangarError | null>(null);

  async function verify() {
    setError(null);
    setReport(null);
    try {
      setReport(await client.journal.verify());
    } catch (e) {
      setError(toHangarError(e));
    }
  }

  function filter(e: FormEvent) {
    e.preventDefault();
    setSelected(null);
    setApplied(prefix.trim());
  }

  return (
    <section className="page">
      <h1>Audit</h1>
      <p className="muted">
        Everything Hangar did for this project, as hash-chained journal streams: changing any stored event
        breaks its chain, and the check below finds it.
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={() => void verify()}>
          Verify every chain
        </button>
      </div>
      {error ? <ErrorMessage error={error} /> : null}
      {report ? (
        <p role="status" className={report.ok ? undefined : 'danger-text'}>
          {report.ok
            ? `Intact: ${report.events} events in ${report.streams} streams, every hash recomputed.`
            : `Broken: ${report.broken.map((b) => `${b.stream} at seq ${b.seq} (${b.reason.replaceAll('_', ' ')})`).join('; ')}.`}
        </p>
      ) : null}
      <form className="filters" onSubmit={filter}>
        <Field label="Stream prefix">
          {(id) => (
            <input
              id={id}
              value={prefix}
              placeholder="e.g. actions: or gateway"
              onChange={(e) => setPrefix(e.target.value)}
            />
          )}
        </Field>
        <button type="submit">Filter</button>
      </form>
      {streams.status === 'loading' ? (
        <p className="muted">Loading streams…</p>
      ) : streams.status === 'error' ? (
        <ErrorMessage error={streams.error} />
      ) : streams.data.length === 0 ? (
        <p className="muted">No events{applied ? ` in streams starting with “${applied}”` : ''} yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="keys" aria-label="Streams">
            <thead>
              <tr>
                <th>Stream</th>
                <th>Events</th>
                <th>Last event</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {streams.data.map((s) => (
                <tr key={s.stream} aria-selected={selected === s.stream}>
                  <td>
                    <code>{s.stream}</code>
                  </td>
                  <td>{s.headSeq}</td>
                  <td>{new Date(s.lastTime).toLocaleString()}</td>
                  <td>
                    <button type="button" className="ghost" onClick={() => setSelected(s.stream)}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected ? <StreamEvents key={selected} client={client} stream={selected} /> : null}
    </section>
  );
}

function StreamEvents({ client, stream }: { client: HangarClient; stream: string }) {
  const [type, setType] = useState('');
  const load = useCallback(() => client.journal.read(stream, { limit: 200 }), [client, stream]);
  const [page] = useRequest(load);
  if (page.status === 'loading') return <p className="muted">Loading events…</p>;
  if (page.status === 'error') return <ErrorMessage error={page.error} />;
  const events = page.data.events.filter((e) => !type || e.type.startsWith(type));
  return (
    <section className="panel" aria-label={`Events of ${stream}`}>
      <h2>
        <code>{stream}</code>
      </h2>
      <Field label="Event type">
        {(id) => (
          <input id={id} value={type} placeholder="e.g. key." onChange={(e) => setType(e.target.value)} />
        )}
      </Field>
      <table className="keys" aria-label="Events">
        <thead>
          <tr>
            <th>Seq</th>
            <th>Type</th>
            <th>Actor</th>
            <th>Time</th>
            <th>Hash</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>
                <code>{e.type}</code>
              </td>
              <td>
                {e.actor.type} <code>{e.actor.id}</code>
              </td>
              <td>{new Date(e.time).toLocaleString()}</td>
              <td>
                <code title={e.hash}>{e.hash.slice(0, 12)}…</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.data.nextAfterSeq !== null ? <p className="muted small">Showing the first 200 events.</p> : null}
    </section>
  );
}
