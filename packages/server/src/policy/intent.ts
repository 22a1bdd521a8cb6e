import type { Intent, Scopes } from '@hangar/protocol';
import { actionAmount, type Action } from '../actions/action.js';
import { scopeAllows } from '../identity/narrowing.js';

/** Both intents at once (a credential's and a run's): the stricter of each rule. */
export function combineIntents(a: Intent | null, b: Intent | null): Intent | null {
  if (!a || !b) return a ?? b;
  const both = (x?: string[], y?: string[]) => (x && y ? x.filter((v) => y.includes(v)) : (x ?? y));
  const max = [a.maxSpendMicros, b.maxSpendMicros].filter((v): v is number => v !== undefined);
  const purpose = [a.purpose, b.purpose].filter(Boolean).join('; ');
  return {
    ...(a.readOnly || b.readOnly ? { readOnly: true } : {}),
    ...(both(a.tools, b.tools) ? { tools: both(a.tools, b.tools) } : {}),
    ...(both(a.domains, b.domains) ? { domains: both(a.domains, b.domains) } : {}),
    ...(max.length ? { maxSpendMicros: Math.min(...max) } : {}),
    ...(purpose ? { purpose } : {}),
  };
}

/** Kinds that change something outside: refused under a read-only intent. */
const WRITES: ReadonlySet<string> = new Set(['data.write', 'payment.create', 'sandbox.exec']);

function hostOf(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  try {
    return new URL(value.includes('://') ? value : `https://${value}`).hostname.toLowerCase();
  } catch {
    return value.toLowerCase();
  }
}

export interface IntentViolation {
  rule: 'readOnly' | 'tools' | 'domains' | 'maxSpendMicros';
  message: string;
}

/** The first rule of the declared intent the action breaks, or null when it stays inside. */
export function intentViolation(action: Action, intent: Intent | null): IntentViolation | null {
  if (!intent) return null;
  if (intent.readOnly && WRITES.has(action.kind)) {
    return { rule: 'readOnly', message: `${action.kind} is a write, and the declared intent is read-only.` };
  }
  if (action.kind === 'tool.call' && intent.tools && !scopeAllows(intent.tools, action.resource)) {
    return { rule: 'tools', message: `Tool '${action.resource}' is not among the declared tools (${intent.tools.join(', ') || 'none'}).` };
  }
  if (action.kind === 'tool.call' && intent.domains && action.args && typeof action.args === 'object') {
    const args = action.args as Record<string, unknown>;
    const host = hostOf(args.url) ?? hostOf(args.domain);
    if (host && !intent.domains.some((d) => d === '*' || host === d.toLowerCase() || host.endsWith(`.${d.toLowerCase()}`))) {
      return { rule: 'domains', message: `Domain '${host}' is not among the declared domains (${intent.domains.join(', ') || 'none'}).` };
    }
  }
  if (intent.maxSpendMicros !== undefined && actionAmount(action) > intent.maxSpendMicros) {
    return { rule: 'maxSpendMicros', message: `The action may cost ${actionAmount(action)} micro-units, over the declared maximum of ${intent.maxSpendMicros}.` };
  }
  return null;
}

/** What of the action its credential's scopes do not allow, or null. */
export function scopeViolation(action: Action, scopes: Scopes): string | null {
  if (!scopeAllows(scopes.actions, action.kind)) return `the credential's scopes do not allow ${action.kind}`;
  if ((action.kind === 'model.call' || action.kind === 'embedding.call') && !scopeAllows(scopes.models, action.resource)) {
    return `the credential's scopes do not allow model '${action.resource}'`;
  }
  if (action.kind === 'tool.call' && !scopeAllows(scopes.tools, action.resource)) return `the credential's scopes do not allow tool '${action.resource}'`;
  return null;
}
