import { useCallback } from 'react';
import type { HangarClient } from '@hangar/sdk';
import { usePagedRequest, useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { evalsHref } from './evals.js';
import { JsonCell, LoadMore } from './experiments.js';
import { formatTime } from './format.js';
import { traceHash } from './traces.js';

/** Where a case came from; a production span links to its trace. */
function CaseSource({ source }: { source: string | null }) {
  if (!source) return <span className="muted">—</span>;
  const span = /^span:([0-9a-f]+)\/([0-9a-f]+)$/.exec(source);
  return span ? <a href={traceHash(span[1]!, span[2])}>{source}</a> : <>{source}</>;
}

/** The project's datasets with their latest version. */
export function DatasetsList({ client }: { client: HangarClient }) {
  const load = useCallback(() => client.datasets.list().then((r) => r.datasets), [client]);
  const [datasets] = useRequest(load);
  return (
    <>
      <h1>Datasets</h1>
      {datasets.status === 'loading' ? (
        <p className="muted">Loading datasets…</p>
      ) : datasets.status === 'error' ? (
        <ErrorMessage error={datasets.error} />
      ) : datasets.data.length === 0 ? (
        <div className="empty-state">
          <p className="empty-lead">No datasets yet.</p>
          <p className="muted">
            Create one with <code>hangar.datasets.create()</code>, import JSONL or CSV, or add production
            spans; every change makes a new immutable version.
          </p>
        </div>
      ) : (
        <div className="table-scroll panel flush">
          <table className="data evals-table" aria-label="Datasets">
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Description</th>
                <th scope="col" className="num">
                  Latest version
                </th>
                <th scope="col" className="num">
                  Cases
                </th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {datasets.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a href={evalsHref.dataset(d.id)}>{d.name}</a>
                  </td>
                  <td>{d.description ?? <span className="muted">—</span>}</td>
                  <td className="num">{d.latestVersion}</td>
                  <td className="num">{d.caseCount}</td>
                  <td>{formatTime(d.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** One dataset: its versions, and the cases of the selected one (the latest by default). */
export function DatasetPage({
  client,
  id,
  version,
}: {
  client: HangarClient;
  id: string;
  version: number | null;
}) {
  const load = useCallback(async () => {
    const [dataset, { versions }] = await Promise.all([
      client.datasets.get(id),
      client.datasets.versions(id),
    ]);
    return { dataset, versions: [...versions].sort((a, b) => b.version - a.version) };
  }, [client, id]);
  const [state] = useRequest(load);
  const back = (
    <a href={evalsHref.datasets()} className="back-link">
      ← Datasets
    </a>
  );
  if (state.status === 'loading') return <p className="muted">Loading dataset…</p>;
  if (state.status === 'error') {
    return (
      <>
        {back}
        <ErrorMessage error={state.error} />
      </>
    );
  }
  const { dataset, versions } = state.data;
  const selected = version ?? dataset.latestVersion;
  return (
    <>
      {back}
      <h1>{dataset.name}</h1>
      {dataset.description ? <p className="muted">{dataset.description}</p> : null}
      <section className="panel flush" aria-labelledby="versions-heading">
        <h2 id="versions-heading" className="panel-title">
          Versions
        </h2>
        {versions.length === 0 ? (
          <p className="muted panel-title">No cases yet: version 1 is made by the first change.</p>
        ) : (
          <div className="table-scroll">
            <table className="data" aria-label="Versions">
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col" className="num">
                    Cases
                  </th>
                  <th scope="col">Note</th>
                  <th scope="col">Made</th>
                </tr>
              </thead>
              <tbody>
                {versions.map((v) => (
                  <tr key={v.version} aria-selected={v.version === selected}>
                    <td>
                      <a
                        href={evalsHref.dataset(dataset.id, v.version)}
                        aria-current={v.version === selected ? 'true' : undefined}
                      >
                        v{v.version}
                      </a>
                      {v.version === dataset.latestVersion ? <span className="tag">latest</span> : null}
                    </td>
                    <td className="num">{v.caseCount}</td>
                    <td>{v.note ?? <span className="muted">—</span>}</td>
                    <td>{formatTime(v.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {selected > 0 ? (
        <VersionCases key={selected} client={client} id={dataset.id} version={selected} />
      ) : null}
    </>
  );
}

function VersionCases({ client, id, version }: { client: HangarClient; id: string; version: number }) {
  const loadPage = useCallback(
    (cursor: string | undefined) =>
      client.datasets
        .cases(id, { version, limit: 100, cursor })
        .then((p) => ({ items: p.cases, nextCursor: p.nextCursor })),
    [client, id, version],
  );
  const { state: first, items: cases, ...paging } = usePagedRequest(loadPage);

  return (
    <section className="panel flush" aria-labelledby="cases-heading">
      <h2 id="cases-heading" className="panel-title">
        Cases in v{version}
      </h2>
      {first.status === 'loading' ? (
        <p className="muted panel-title">Loading cases…</p>
      ) : first.status === 'error' ? (
        <ErrorMessage error={first.error} />
      ) : (
        <div className="table-scroll">
          <table className="data" aria-label="Cases">
            <thead>
              <tr>
                <th scope="col">Case</th>
                <th scope="col">Input</th>
                <th scope="col">Expected</th>
                <th scope="col">Tags</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    <code>{c.id}</code>
                  </th>
                  <td>
                    <JsonCell value={c.input} />
                  </td>
                  <td>
                    <JsonCell value={c.expected} />
                  </td>
                  <td>{c.tags.length ? c.tags.join(', ') : <span className="muted">—</span>}</td>
                  <td>
                    <CaseSource source={c.source} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="panel-title">
        <LoadMore {...paging} label="Load more cases" />
      </div>
    </section>
  );
}
