import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { CreatedProject } from '@hangar/protocol';
import {
  signOut,
  storeKey,
  switchProject,
  toHangarError,
  updateProjectName,
  useClient,
  useRequest,
  type Session,
  type StoredKey,
} from './api.js';
import { EmptyState } from './empty-state.js';
import { ErrorMessage } from './error-message.js';
import { Evals } from './evals.js';
import { Field } from './field.js';
import { GatewayPage } from './gateway.js';
import { AuditPage } from './audit.js';
import { AgentsPage, ApprovalsPage, PoliciesPage } from './identity-pages.js';
import { LedgerPage } from './ledger.js';
import { PaymentsPage } from './payments.js';
import { SecretBox } from './secret-box.js';
import { Settings } from './settings.js';
import { SpendPage } from './spend.js';
import { Traces } from './traces.js';

/** The pillars, in navigation order; each is a page at `#/<id>`. */
export const PILLARS = [
  { id: 'traces', label: 'Traces' },
  { id: 'gateway', label: 'Gateway' },
  { id: 'runs', label: 'Runs' },
  { id: 'agents', label: 'Agents' },
  { id: 'policies', label: 'Policies' },
  { id: 'spend', label: 'Spend' },
  { id: 'ledger', label: 'Ledger' },
  { id: 'payments', label: 'Payments' },
  { id: 'evals', label: 'Evals' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'audit', label: 'Audit' },
  { id: 'settings', label: 'Settings' },
] as const;

/** A page of the UI: one per pillar. */
export type PillarId = (typeof PILLARS)[number]['id'];

function routeOf(hash: string): PillarId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return PILLARS.find((p) => p.id === id)?.id ?? 'traces';
}

/** The page named by `location.hash` (`#/settings`); Traces for anything else. */
function useHashRoute(): PillarId {
  const [route, setRoute] = useState(() => routeOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const ADD_KEY = '__add_key__';

/** Header, navigation and the current page, for the project whose key is in use. */
export function Shell({
  session,
  current,
  onAddKey,
}: {
  session: Session;
  current: StoredKey;
  onAddKey: () => void;
}) {
  const client = useClient(current.key);
  const route = useHashRoute();
  const loadWhoami = useCallback(() => client.whoami(), [client]);
  const [whoami, reloadWhoami] = useRequest(loadWhoami);
  const [creatingProject, setCreatingProject] = useState(false);

  const me = whoami.status === 'ok' ? whoami.data : null;
  useEffect(() => {
    if (me) updateProjectName(me.project.id, me.project.name);
  }, [me]);

  const label = PILLARS.find((p) => p.id === route)?.label ?? '';
  useEffect(() => {
    document.title = `${label} · ${current.projectName} · Hangar`;
  }, [label, current.projectName]);

  const projects = [...session.keys].sort((a, b) => a.projectName.localeCompare(b.projectName));

  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="#/traces">
          <span className="brand-mark" aria-hidden="true" />
          Hangar
        </a>
        <div className="project-switcher">
          <select
            aria-label="Project"
            value={current.projectId}
            onChange={(e) => (e.target.value === ADD_KEY ? onAddKey() : switchProject(e.target.value))}
          >
            {projects.map((p) => (
              <option key={p.projectId} value={p.projectId}>
                {p.projectName}
              </option>
            ))}
            <option value={ADD_KEY}>Add a key for another project…</option>
          </select>
          {me?.key.role === 'admin' ? (
            <button type="button" onClick={() => setCreatingProject(true)}>
              New project…
            </button>
          ) : null}
        </div>
        <div className="topbar-end">
          {me ? (
            <span className="whoami" title={`Key ${me.key.prefix}… in ${me.organization.name}`}>
              <span className="muted">{me.key.name}</span>
              <span className={`badge role-${me.key.role}`}>{me.key.role}</span>
            </span>
          ) : null}
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>

      <nav className="sidebar" aria-label="Pillars">
        <ul>
          {PILLARS.map((p) => (
            <li key={p.id}>
              <a href={`#/${p.id}`} aria-current={route === p.id ? 'page' : undefined}>
                {p.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>

      <main className="content">
        {whoami.status === 'error' ? (
          <KeyProblem error={whoami.error} onRetry={reloadWhoami} />
        ) : route === 'settings' ? (
          me ? (
            <Settings client={client} whoami={me} />
          ) : (
            <p className="muted">Loading…</p>
          )
        ) : route === 'traces' ? (
          <Traces client={client} />
        ) : route === 'gateway' ? (
          <GatewayPage client={client} whoami={me} apiKey={current.key} />
        ) : route === 'agents' ? (
          <AgentsPage client={client} />
        ) : route === 'policies' ? (
          <PoliciesPage client={client} />
        ) : route === 'approvals' ? (
          <ApprovalsPage client={client} />
        ) : route === 'evals' ? (
          <Evals client={client} />
        ) : route === 'audit' ? (
          <AuditPage client={client} />
        ) : route === 'spend' ? (
          <SpendPage client={client} whoami={me} />
        ) : route === 'ledger' ? (
          <LedgerPage client={client} />
        ) : route === 'payments' ? (
          <PaymentsPage client={client} />
        ) : (
          <EmptyState pillar={route} />
        )}
      </main>

      {creatingProject ? (
        <NewProjectDialog client={client} onClose={() => setCreatingProject(false)} />
      ) : null}
    </div>
  );
}

/** The stored key stopped working (revoked, or the server was reset) or the server is unreachable. */
function KeyProblem({ error, onRetry }: { error: HangarError; onRetry: () => void }) {
  const keyIsBad =
    error.code === 'invalid_key' || error.code === 'key_revoked' || error.code === 'unauthenticated';
  return (
    <section className="page">
      <h1>{keyIsBad ? 'This key no longer works' : 'Hangar is not answering'}</h1>
      <ErrorMessage error={error}>
        <div className="actions">
          {keyIsBad ? (
            <button type="button" className="primary" onClick={signOut}>
              Forget this key
            </button>
          ) : (
            <button type="button" onClick={onRetry}>
              Try again
            </button>
          )}
        </div>
      </ErrorMessage>
    </section>
  );
}

/**
 * Creates a project and shows its first admin key once. The key is stored in this browser straight
 * away, so closing the dialog never loses it; the switch happens when the dialog closes.
 */
function NewProjectDialog({ client, onClose }: { client: HangarClient; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<HangarError | null>(null);
  const [created, setCreated] = useState<CreatedProject | null>(null);

  useEffect(() => {
    // Guarded because StrictMode runs effects twice in development.
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);

  function close() {
    if (created) switchProject(created.project.id);
    onClose();
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await client.projects.create(name.trim());
      storeKey(
        { projectId: result.project.id, projectName: result.project.name, key: result.key.key },
        { switchTo: false },
      );
      setCreated(result);
    } catch (e) {
      setError(toHangarError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog
      ref={dialog}
      className="card dialog"
      aria-labelledby="new-project-title"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      <h2 id="new-project-title">New project</h2>
      {created ? (
        <>
          <p>
            Created <strong>{created.project.name}</strong> with an admin key named{' '}
            <code>{created.key.name}</code>. The key is stored in this browser.
          </p>
          <SecretBox label="Admin key created." secret={created.key.key} />
          <div className="actions">
            <button type="button" className="primary" onClick={close}>
              Open {created.project.name}
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <p className="muted">A project has its own keys, journal and settings, in the same organization.</p>
          <Field label="Project name">
            {(id) => (
              <input
                id={id}
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={100}
                required
                autoFocus
              />
            )}
          </Field>
          {error ? <ErrorMessage error={error} /> : null}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy || !name.trim()}>
              Create project
            </button>
            <button type="button" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
