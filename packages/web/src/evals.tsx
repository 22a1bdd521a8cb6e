import { useEffect, useMemo, useState } from 'react';
import type { HangarClient } from '@hangar/sdk';
import { Comparison } from './comparison.js';
import { DatasetPage, DatasetsList } from './datasets.js';
import { ExperimentPage, ExperimentsList } from './experiments.js';
import { OnlineEvals } from './online-evals.js';

/**
 * Where in Evals the hash points:
 * `#/evals` (experiments), `#/evals/experiments/<id>`, `#/evals/experiments/<id>/compare?baseline=<id>`,
 * `#/evals/datasets`, `#/evals/datasets/<id>?version=2`, `#/evals/online`.
 */
type EvalsLocation =
  | { view: 'experiments' }
  | { view: 'experiment'; id: string }
  | { view: 'compare'; id: string; baseline: string }
  | { view: 'datasets' }
  | { view: 'dataset'; id: string; version: number | null }
  | { view: 'online' };

function parseLocation(hash: string): EvalsLocation {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(search);
  const [, section, id, sub] = path.split('/').map((s) => decodeURIComponent(s));
  if (section === 'experiments' && id) {
    const baseline = params.get('baseline');
    return sub === 'compare' && baseline ? { view: 'compare', id, baseline } : { view: 'experiment', id };
  }
  if (section === 'datasets') {
    if (!id) return { view: 'datasets' };
    const version = Number(params.get('version'));
    return { view: 'dataset', id, version: Number.isInteger(version) && version > 0 ? version : null };
  }
  if (section === 'online') return { view: 'online' };
  return { view: 'experiments' };
}

/** Links inside Evals, so every page builds them the same way. */
export const evalsHref = {
  experiments: () => '#/evals',
  experiment: (id: string) => `#/evals/experiments/${encodeURIComponent(id)}`,
  compare: (candidate: string, baseline: string) =>
    `#/evals/experiments/${encodeURIComponent(candidate)}/compare?baseline=${encodeURIComponent(baseline)}`,
  datasets: () => '#/evals/datasets',
  dataset: (id: string, version?: number) =>
    `#/evals/datasets/${encodeURIComponent(id)}${version ? `?version=${version}` : ''}`,
  online: () => '#/evals/online',
};

function useEvalsLocation(): EvalsLocation {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return useMemo(() => parseLocation(hash), [hash]);
}

const TABS = [
  { id: 'experiments', label: 'Experiments', href: evalsHref.experiments() },
  { id: 'datasets', label: 'Datasets', href: evalsHref.datasets() },
  { id: 'online', label: 'Online evals', href: evalsHref.online() },
] as const;

/** The Evals page: experiments (and their comparisons), datasets, and online evals with drift alerts. */
export function Evals({ client }: { client: HangarClient }) {
  const location = useEvalsLocation();
  const tab =
    location.view === 'datasets' || location.view === 'dataset'
      ? 'datasets'
      : location.view === 'online'
        ? 'online'
        : 'experiments';

  return (
    <section className="page page-wide">
      <nav className="tabs" aria-label="Evals">
        {TABS.map((t) => (
          <a key={t.id} href={t.href} aria-current={tab === t.id ? 'page' : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      {location.view === 'experiments' ? (
        <ExperimentsList client={client} />
      ) : location.view === 'experiment' ? (
        <ExperimentPage key={location.id} client={client} id={location.id} />
      ) : location.view === 'compare' ? (
        <Comparison
          key={`${location.id}:${location.baseline}`}
          client={client}
          candidateId={location.id}
          baselineId={location.baseline}
        />
      ) : location.view === 'datasets' ? (
        <DatasetsList client={client} />
      ) : location.view === 'dataset' ? (
        <DatasetPage key={location.id} client={client} id={location.id} version={location.version} />
      ) : (
        <OnlineEvals client={client} />
      )}
    </section>
  );
}
