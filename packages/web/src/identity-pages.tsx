import { useCallback, useState } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { Agent, Approval, PolicyDecision } from '@hangar/protocol';
import { toHangarError, useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';

const chain = (principals: Array<{ type: string; id: string }>) => principals.map((p) => `${p.type}:${p.id}`).join(' → ');

/** The project's agents; one selected shows its credentials and latest actions. */
export function AgentsPage({ client }: { client: HangarClient }) {
  const load = useCallback(() => client.agents.list().then((r) => r.agents), [client]);
  const [agents] = useRequest(load);
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <section className="page">
      <h1>Agents</h1>
      <p className="muted">Agents act with short-lived signed credentials; each action records the whole chain of who acted for whom.</p>
      {agents.status === 'loading' ? (
        <p className="muted">Loading agents…</p>
      ) : agents.status === 'error' ? (
        <ErrorMessage error={agents.error} />
      ) : agents.data.length === 0 ? (
        <p className="muted">No agents yet. Register one with POST /v1/agents.</p>
      ) : (
        <div className="table-scroll">
          <table className="keys" aria-label="Agents">
            <thead>
              <tr>
                <th>Name</th>
                <th>Owner</th>
                <th>Labels</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {agents.data.map((a: Agent) => (
                <tr key={a.id}>
                  <td>
                    <button type="button" className="ghost" onClick={() => setSelected(a.id)}>
                      {a.name}
                    </button>
                  </td>
                  <td>{a.owner}</td>
                  <td>{Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ')}</td>
                  <td>{a.revokedAt ? 'revoked' : 'active'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected ? <AgentDetail client={client} id={selected} /> : null}
    </section>
  );
}

function AgentDetail({ client, id }: { client: HangarClient; id: string }) {
  const load = useCallback(() => client.agents.get(id), [client, id]);
  const [detail] = useRequest(load);
  if (detail.status === 'loading') return <p className="muted">Loading…</p>;
  if (detail.status === 'error') return <ErrorMessage error={detail.error} />;
  const { agent, credentials, recentActions } = detail.data;
  return (
    <section className="panel" aria-label={`Agent ${agent.name}`}>
      <h2>{agent.name}</h2>
      <p className="muted small">{agent.description || 'No description.'}</p>
      <h3>Credentials</h3>
      {credentials.length === 0 ? (
        <p className="muted">None issued.</p>
      ) : (
        <table className="keys" aria-label="Credentials">
          <thead>
            <tr>
              <th>Id</th>
              <th>Acting for</th>
              <th>Chain</th>
              <th>Spent / cap (µ)</th>
              <th>Expires</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {credentials.map((c) => (
              <tr key={c.id}>
                <td>
                  <code>{c.id}</code>
                </td>
                <td>{`${c.actingFor.type}:${c.actingFor.id}`}</td>
                <td>{chain(c.chain)}</td>
                <td>{`${c.spentMicros} / ${c.spendCapMicros}`}</td>
                <td>{c.expiresAt}</td>
                <td>{c.revokedAt ? 'revoked' : Date.parse(c.expiresAt) < Date.now() ? 'expired' : 'live'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Recent actions</h3>
      {recentActions.length === 0 ? (
        <p className="muted">No actions yet.</p>
      ) : (
        <ul aria-label="Recent actions">
          {recentActions.map((e) => {
            const p = e.payload as { kind?: string; resource?: string; outcome?: { status: string; code?: string } };
            return (
              <li key={e.seq}>
                {e.time} — {p.kind} {p.resource}: {p.outcome?.status}
                {p.outcome?.code ? ` (${p.outcome.code})` : ''}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** Policies: the list, an editor that validates as you save, and a "would this be allowed?" tester. */
export function PoliciesPage({ client }: { client: HangarClient }) {
  const load = useCallback(() => client.policies.list().then((r) => r.policies), [client]);
  const [policies, reload] = useRequest(load);
  const [name, setName] = useState('');
  const [text, setText] = useState('permit(principal, action == Action::"tool.call", resource == Tool::"search");');
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<HangarError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  async function save() {
    setError(null);
    setSaved(null);
    try {
      const p = editing ? await client.policies.update(editing, { name, text }) : await client.policies.create({ name, text });
      setSaved(`Saved ${p.name}.`);
      setEditing(p.id);
      reload();
    } catch (e) {
      setError(toHangarError(e));
    }
  }

  const issues = (error?.details as { issues?: Array<{ line?: number; column?: number; message: string }> } | undefined)?.issues ?? [];
  return (
    <section className="page">
      <h1>Policies</h1>
      <p className="muted">Cedar policies decide every action. Tools, code and payments need a permit; forbid always wins.</p>
      {policies.status === 'ok' && policies.data.length > 0 ? (
        <ul aria-label="Policies">
          {policies.data.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                className="ghost"
                onClick={() => {
                  setEditing(p.id);
                  setName(p.name);
                  setText(p.text);
                }}
              >
                {p.name}
              </button>{' '}
              <code className="muted">{p.cedarIds.join(', ')}</code>
            </li>
          ))}
        </ul>
      ) : policies.status === 'error' ? (
        <ErrorMessage error={policies.error} />
      ) : (
        <p className="muted">No policies: model calls and data access are allowed, tools, code and payments denied.</p>
      )}
      <section className="panel" aria-label="Policy editor">
        <h2>{editing ? 'Edit policy' : 'New policy'}</h2>
        <Field label="Policy name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <Field label="Cedar">
          {(id) => <textarea id={id} rows={8} cols={80} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="button" className="primary" disabled={!name.trim() || !text.trim()} onClick={() => void save()}>
            Save
          </button>
          {editing ? (
            <button type="button" onClick={() => { setEditing(null); setName(''); }}>
              New
            </button>
          ) : null}
        </div>
        {saved ? <p role="status">{saved}</p> : null}
        {error ? (
          <ErrorMessage error={error}>
            {issues.length > 0 ? (
              <ul aria-label="Problems">
                {issues.map((i, n) => (
                  <li key={n}>{i.line ? `Line ${i.line}, column ${i.column}: ` : ''}{i.message}</li>
                ))}
              </ul>
            ) : null}
          </ErrorMessage>
        ) : null}
      </section>
      <PolicyTester client={client} />
    </section>
  );
}

function PolicyTester({ client }: { client: HangarClient }) {
  const [kind, setKind] = useState('tool.call');
  const [resource, setResource] = useState('search');
  const [agent, setAgent] = useState('');
  const [decision, setDecision] = useState<PolicyDecision | null>(null);
  const [error, setError] = useState<HangarError | null>(null);
  async function check() {
    setError(null);
    try {
      setDecision(
        await client.policies.check({
          kind: kind as 'tool.call',
          resource,
          ...(agent ? { principal: { type: 'agent', id: agent } } : {}),
        }),
      );
    } catch (e) {
      setError(toHangarError(e));
    }
  }
  return (
    <section className="panel" aria-label="Would this be allowed?">
      <h2>Would this be allowed?</h2>
      <Field label="Action">
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.target.value)}>
            {['model.call', 'embedding.call', 'tool.call', 'sandbox.exec', 'payment.create', 'run.start', 'data.read', 'data.write'].map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Resource">{(id) => <input id={id} value={resource} onChange={(e) => setResource(e.target.value)} />}</Field>
      <Field label="Agent id (optional)">{(id) => <input id={id} value={agent} onChange={(e) => setAgent(e.target.value)} />}</Field>
      <div className="actions">
        <button type="button" onClick={() => void check()}>
          Check
        </button>
      </div>
      {decision ? (
        <p role="status">
          <strong>{decision.effect}</strong> — {decision.reason}
        </p>
      ) : null}
      {error ? <ErrorMessage error={error} /> : null}
    </section>
  );
}

/** The approvals inbox: pending requests with what, who, cost and why; approve or deny. */
export function ApprovalsPage({ client }: { client: HangarClient }) {
  const load = useCallback(() => client.approvals.list('pending').then((r) => r.approvals), [client]);
  const [approvals, reload] = useRequest(load);
  const [error, setError] = useState<HangarError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  async function decide(a: Approval, approve: boolean) {
    setError(null);
    try {
      const d = approve ? await client.approvals.approve(a.id) : await client.approvals.deny(a.id);
      setDone(`${d.status === 'approved' ? 'Approved' : 'Denied'} ${d.kind} ${d.resource}.`);
      reload();
    } catch (e) {
      setError(toHangarError(e));
    }
  }
  return (
    <section className="page">
      <h1>Approvals</h1>
      {done ? <p role="status">{done}</p> : null}
      {error ? <ErrorMessage error={error} /> : null}
      {approvals.status === 'loading' ? (
        <p className="muted">Loading…</p>
      ) : approvals.status === 'error' ? (
        <ErrorMessage error={approvals.error} />
      ) : approvals.data.length === 0 ? (
        <p className="muted">Nothing waits for approval.</p>
      ) : (
        <ul aria-label="Pending approvals">
          {approvals.data.map((a) => (
            <li key={a.id} className="panel">
              <p>
                <strong>
                  {a.kind} {a.resource}
                </strong>{' '}
                by {chain(a.actor.principals)}
                {a.costMicros !== null ? `, up to ${a.costMicros / 1e6} USD` : ''}
              </p>
              <pre className="small">{JSON.stringify(a.args, null, 2)}</pre>
              <p className="muted small">{a.reason}</p>
              <div className="actions">
                <button type="button" className="primary" onClick={() => void decide(a, true)}>
                  Approve
                </button>
                <button type="button" className="danger" onClick={() => void decide(a, false)}>
                  Deny
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
