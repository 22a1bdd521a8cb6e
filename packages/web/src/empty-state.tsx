import type { PillarId } from './shell.js';

type EmptyPillar = Exclude<PillarId, 'settings' | 'audit' | 'ledger' | 'payments' | 'evals' | 'gateway'>;

// What each page will show, and how data gets there. No sample data: an empty project looks empty.
// `shipped: false` says plainly that the server does not do this yet; flip it when the pillar lands.
const EMPTY_STATES: Record<EmptyPillar, { title: string; lead: string; how: string; shipped?: boolean }> = {
  traces: {
    title: 'Traces',
    lead: 'No traces yet.',
    how:
      'Point an OpenTelemetry exporter or the OpenAI SDK at this server with a key for this project, and every ' +
      'model call, tool call and span will appear here with its tokens, its cost and the agent that made it. ' +
      'The Gateway page sets up model providers and tries a model.',
    shipped: true,
  },
  runs: {
    title: 'Runs',
    lead: 'No runs yet.',
    how:
      'Durable agent runs started with the Hangar SDK appear here with their journaled steps, retries, timers and ' +
      'child runs; a run whose worker crashed resumes from its journal.',
  },
  agents: {
    title: 'Agents',
    lead: 'No agents yet.',
    how:
      'Agents are principals with their own short-lived credentials and delegation chains. Agents registered ' +
      'through the API or the SDK will be listed here, with what each one is allowed to do.',
  },
  policies: {
    title: 'Policies',
    lead: 'No policies yet.',
    how:
      'Cedar policies decide whether each action is allowed, denied or needs approval. Policies added to this project ' +
      'will appear here; without a matching policy, Hangar denies the action.',
  },
  spend: {
    title: 'Spend',
    lead: 'Nothing spent yet.',
    how:
      'Model calls through the gateway (and any traced span with a price) cost money. Cost per day, agent and model, ' +
      'and each budget with its burn rate and forecast, appear here once calls go through this server or a budget exists.',
    shipped: true,
  },
  approvals: {
    title: 'Approvals',
    lead: 'Nothing is waiting for approval.',
    how:
      'When a policy says an action needs approval, the agent’s request waits here until someone approves or denies it; ' +
      'the decision is kept as signed evidence in the journal.',
  },
};

/** The honest empty page of a pillar: what will appear there and how it gets there. */
export function EmptyState({ pillar }: { pillar: EmptyPillar }) {
  const state = EMPTY_STATES[pillar];
  return (
    <section className="page">
      <h1>{state.title}</h1>
      <div className="empty-state">
        <p className="empty-lead">{state.lead}</p>
        <p className="muted">{state.how}</p>
        {!state.shipped && (
          <p className="muted">
            <strong>Not in this version yet.</strong> This page fills in when the pillar ships; the journal already
            records what the API receives.
          </p>
        )}
      </div>
    </section>
  );
}
