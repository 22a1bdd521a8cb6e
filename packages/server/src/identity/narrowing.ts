import type { Intent, Scopes } from '@hangar/protocol';

/** Whether every value `child` allows, `parent` allows too (`"*"` allows any value). */
export function isSubset(child: readonly string[], parent: readonly string[]): boolean {
  if (parent.includes('*')) return true;
  return child.every((c) => c !== '*' && parent.includes(c));
}

/** Whether a value is allowed by a scope list. */
export function scopeAllows(list: readonly string[], value: string): boolean {
  return list.includes('*') || list.includes(value);
}

export interface Grant {
  scopes: Scopes;
  spendCapMicros: number;
  expiresAtMs: number;
  intent: Intent | null;
}

/**
 * What a requested delegation would widen, compared with what the delegating credential has (its spend
 * cap here being what remains of it). Empty when the request only narrows (or keeps) everything.
 */
export function wideningOf(parent: Grant, child: Grant): string[] {
  const out: string[] = [];
  for (const field of ['models', 'tools', 'actions'] as const) {
    if (!isSubset(child.scopes[field], parent.scopes[field])) out.push(`scopes.${field}`);
  }
  if (child.spendCapMicros > parent.spendCapMicros) out.push('spendCapMicros');
  if (child.expiresAtMs > parent.expiresAtMs) out.push('expiresAt');
  const p = parent.intent;
  const c = child.intent;
  if (p) {
    if (p.readOnly && !c?.readOnly) out.push('intent.readOnly');
    if (p.tools && !(c?.tools && isSubset(c.tools, p.tools))) out.push('intent.tools');
    if (p.domains && !(c?.domains && isSubset(c.domains, p.domains))) out.push('intent.domains');
    if (p.maxSpendMicros !== undefined && !(c?.maxSpendMicros !== undefined && c.maxSpendMicros <= p.maxSpendMicros)) {
      out.push('intent.maxSpendMicros');
    }
  }
  return out;
}
