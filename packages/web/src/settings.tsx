import { useCallback, useState, type FormEvent } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { ApiKey, CreatedKey, Role, Whoami } from '@hangar/protocol';
import { toHangarError, useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';
import { SecretBox } from './secret-box.js';

// Typed against protocol's Role, so a new role fails the build until it is described here. The list
// is derived from this table rather than importing protocol's ROLES, which would pull zod into the bundle.
const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including keys and projects',
  member: 'read and write project data',
  'read-only': 'read project data',
  'ingest-only': 'send traces and events only',
};
const ROLES = Object.keys(ROLE_HELP) as Role[];

/** The project, the key in use, and the project's API keys. */
export function Settings({ client, whoami }: { client: HangarClient; whoami: Whoami }) {
  return (
    <section className="page">
      <h1>Settings</h1>
      <ProjectPanel whoami={whoami} />
      <KeysPanel client={client} whoami={whoami} />
    </section>
  );
}

function ProjectPanel({ whoami }: { whoami: Whoami }) {
  const { project, organization, key } = whoami;
  return (
    <section className="panel" aria-labelledby="project-heading">
      <h2 id="project-heading">Project</h2>
      <dl className="facts">
        <dt>Name</dt>
        <dd>{project.name}</dd>
        <dt>Project id</dt>
        <dd>
          <code>{project.id}</code>
        </dd>
        <dt>Organization</dt>
        <dd>{organization.name}</dd>
        <dt>Journal retention</dt>
        <dd>{project.retentionDays === null ? 'Kept forever' : `${project.retentionDays} days`}</dd>
        <dt>Key in use</dt>
        <dd>
          {key.name} <code className="muted">{key.prefix}…</code>{' '}
          <span className={`badge role-${key.role}`}>{key.role}</span>
        </dd>
      </dl>
    </section>
  );
}

function KeysPanel({ client, whoami }: { client: HangarClient; whoami: Whoami }) {
  const loadKeys = useCallback(() => client.keys.list().then((r) => r.keys), [client]);
  const [keys, reload] = useRequest(loadKeys);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [revokeError, setRevokeError] = useState<HangarError | null>(null);
  const isAdmin = whoami.key.role === 'admin';

  // After a change the table is read back from the server rather than patched locally, so it shows
  // what the server actually holds.
  function onCreated(key: CreatedKey) {
    setCreated(key);
    reload();
  }

  function onRevoked(id: string) {
    // A revoked key's secret is no use to anyone; stop showing it.
    if (created?.id === id) setCreated(null);
    reload();
  }

  return (
    <section className="panel" aria-labelledby="keys-heading">
      <div className="panel-head">
        <h2 id="keys-heading">API keys</h2>
        <p className="muted small">
          Keys authenticate agents, SDKs and people to this project. Revoking a key takes effect at once.
        </p>
      </div>

      {isAdmin && keys.status === 'ok' ? <CreateKeyForm client={client} onCreated={onCreated} /> : null}
      {created ? <SecretBox label={`Key “${created.name}” created.`} secret={created.key} /> : null}
      {revokeError ? <ErrorMessage error={revokeError} /> : null}

      {keys.status === 'loading' ? (
        <p className="muted">Loading keys…</p>
      ) : keys.status === 'error' ? (
        keys.error.code === 'forbidden' ? (
          <div className="notice" role="note">
            <p>
              Only an admin key can list and manage this project&rsquo;s API keys. The key in use has the{' '}
              <strong>{whoami.key.role}</strong> role.
            </p>
            <p className="muted small">
              Sign in with an admin key for this project to create or revoke keys.
            </p>
          </div>
        ) : (
          <ErrorMessage error={keys.error}>
            <div className="actions">
              <button type="button" onClick={reload}>
                Try again
              </button>
            </div>
          </ErrorMessage>
        )
      ) : (
        <KeysTable
          client={client}
          keys={keys.data}
          inUseId={whoami.key.id}
          canRevoke={isAdmin}
          onRevoked={onRevoked}
          onError={setRevokeError}
        />
      )}
    </section>
  );
}

function CreateKeyForm({
  client,
  onCreated,
}: {
  client: HangarClient;
  onCreated: (key: CreatedKey) => void;
}) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<HangarError | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await client.keys.create({ name: name.trim(), role }));
      setName('');
    } catch (e) {
      setError(toHangarError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="create-key" onSubmit={(e) => void submit(e)} aria-label="Create key">
      <Field label="Key name">
        {(id) => (
          <input
            id={id}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. ci-bot"
            maxLength={100}
            required
          />
        )}
      </Field>
      <Field label="Role">
        {(id) => (
          <select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" className="primary" disabled={busy || !name.trim()}>
        Create key
      </button>
      <p className="field-help muted small">
        <strong>{role}</strong>: {ROLE_HELP[role]}.
      </p>
      {error ? <ErrorMessage error={error} /> : null}
    </form>
  );
}

function KeysTable({
  client,
  keys,
  inUseId,
  canRevoke,
  onRevoked,
  onError,
}: {
  client: HangarClient;
  keys: ApiKey[];
  inUseId: string;
  canRevoke: boolean;
  onRevoked: (id: string) => void;
  onError: (error: HangarError | null) => void;
}) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function revoke(id: string) {
    setBusy(id);
    onError(null);
    try {
      await client.keys.revoke(id);
      onRevoked(id);
      setConfirming(null);
    } catch (e) {
      onError(toHangarError(e));
    } finally {
      setBusy(null);
    }
  }

  if (keys.length === 0) return <p className="muted">This project has no keys.</p>;

  return (
    <div className="table-scroll">
      <table className="keys">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const inUse = k.id === inUseId;
            const active = k.revokedAt === null;
            return (
              <tr key={k.id} className={active ? undefined : 'revoked'}>
                <td>
                  {k.name}
                  {inUse ? <span className="tag">in use</span> : null}
                </td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>
                  <span className={`badge role-${k.role}`}>{k.role}</span>
                </td>
                <td>
                  <Time value={k.createdAt} />
                </td>
                <td>{k.lastUsedAt ? <Time value={k.lastUsedAt} /> : <span className="muted">Never</span>}</td>
                <td>
                  {active ? (
                    <span className="status status-active">Active</span>
                  ) : (
                    <span
                      className="status status-revoked"
                      title={`Revoked ${formatTime(k.revokedAt ?? '')}`}
                    >
                      Revoked
                    </span>
                  )}
                </td>
                <td className="row-actions">
                  {canRevoke && active && !inUse ? (
                    confirming === k.id ? (
                      <>
                        <button
                          type="button"
                          className="danger"
                          disabled={busy === k.id}
                          onClick={() => void revoke(k.id)}
                          aria-label={`Confirm revoking ${k.name}`}
                        >
                          Revoke now
                        </button>
                        <button type="button" className="ghost" onClick={() => setConfirming(null)}>
                          Cancel
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        onClick={() => setConfirming(k.id)}
                        aria-label={`Revoke ${k.name}`}
                      >
                        Revoke
                      </button>
                    )
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date);
}

function Time({ value }: { value: string }) {
  return (
    <time dateTime={value} title={value}>
      {formatTime(value)}
    </time>
  );
}
