import { useCallback } from 'react';
import type { HangarClient } from '@hangar/sdk';
import type { Mandate, Payment } from '@hangar/protocol';
import { useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { formatDateTime, formatMoney, formatTime } from './format.js';

/** How many payments the page lists, newest first. */
const PAYMENTS_SHOWN = 200;

const STATUS_LABELS: Record<Payment['status'], string> = {
  pending_approval: 'waiting for approval',
  authorizing: 'authorizing',
  authorized: 'authorized',
  settling: 'settling',
  captured: 'captured',
  failed: 'failed',
  refunded: 'refunded',
};

/** Payments agents made, newest first, and the mandates they were made under. */
export function PaymentsPage({ client }: { client: HangarClient }) {
  const load = useCallback(async () => {
    const [payments, mandates] = await Promise.all([
      client.payments.list({ limit: PAYMENTS_SHOWN }),
      client.mandates.list(),
    ]);
    return { payments: payments.payments, mandates: mandates.mandates };
  }, [client]);
  const [state, reload] = useRequest(load);

  return (
    <section className="page page-wide">
      <div className="page-head">
        <h1>Payments</h1>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <p className="muted">
        Agents pay under mandates signed by a human: a cap, payees or merchant categories, an expiry. Each
        payment holds its amount against the mandate and the agent’s daily limit, then captures on the rail.
      </p>
      {state.status === 'loading' ? (
        <p className="muted">Loading payments…</p>
      ) : state.status === 'error' ? (
        <ErrorMessage error={state.error} onRetry={reload} />
      ) : (
        <>
          <section className="panel" aria-labelledby="payments-list">
            <h2 id="payments-list">Payments</h2>
            {state.data.payments.length === 0 ? (
              <p className="muted">No payments yet. Agents pay with POST /v1/payments under a mandate.</p>
            ) : (
              <PaymentTable payments={state.data.payments} />
            )}
            {state.data.payments.length === PAYMENTS_SHOWN ? (
              <p className="muted small">Showing the newest {PAYMENTS_SHOWN} payments.</p>
            ) : null}
          </section>
          <section className="panel" aria-labelledby="mandates-list">
            <h2 id="mandates-list">Mandates</h2>
            {state.data.mandates.length === 0 ? (
              <p className="muted">
                No mandates yet. A human signs the terms with a registered key; POST /v1/mandates records
                them.
              </p>
            ) : (
              <MandateTable
                mandates={state.data.mandates}
                payments={state.data.payments}
                complete={state.data.payments.length < PAYMENTS_SHOWN}
              />
            )}
          </section>
        </>
      )}
    </section>
  );
}

function PaymentTable({ payments }: { payments: Payment[] }) {
  return (
    <div className="table-scroll">
      <table className="data" aria-label="Payments">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Agent</th>
            <th scope="col">Payee</th>
            <th scope="col">Purpose</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {payments.map((p) => (
            <tr key={p.id}>
              <td title={p.id}>{formatTime(p.createdAt)}</td>
              <td>
                <code>{p.agentId}</code>
              </td>
              <td>
                {p.payee}
                {p.merchantCategory ? <div className="muted small">{p.merchantCategory}</div> : null}
              </td>
              <td>{p.purpose}</td>
              <td>
                <span className={`badge payment-${p.status}`}>{STATUS_LABELS[p.status]}</span>
                {p.failureReason ? <div className="muted small">{p.failureReason}</div> : null}
                <div className="muted small">
                  {p.rail}
                  {p.railRef ? (
                    <>
                      {' '}
                      <code>{p.railRef}</code>
                    </>
                  ) : null}
                </div>
              </td>
              <td className="num">{formatMoney(p.amountMicros, p.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MandateTable({
  mandates,
  payments,
  complete,
}: {
  mandates: Mandate[];
  payments: Payment[];
  complete: boolean;
}) {
  const uses = new Map<string, number>();
  for (const p of payments)
    if (p.status === 'captured' || p.status === 'refunded')
      uses.set(p.mandateId, (uses.get(p.mandateId) ?? 0) + 1);
  return (
    <div className="table-scroll">
      <table className="data" aria-label="Mandates">
        <thead>
          <tr>
            <th scope="col">Mandate</th>
            <th scope="col">Agent</th>
            <th scope="col">May pay</th>
            <th scope="col">Use</th>
            <th scope="col">Expires</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Cap
            </th>
            <th scope="col" className="num">
              Remaining
            </th>
          </tr>
        </thead>
        <tbody>
          {mandates.map((m) => {
            const n = uses.get(m.id) ?? 0;
            return (
              <tr key={m.id}>
                <td>
                  <code>{m.id}</code>
                </td>
                <td>
                  <code>{m.agentId}</code>
                </td>
                <td>
                  {[...(m.payees ?? []), ...(m.merchantCategories ?? []).map((c) => `category ${c}`)].join(
                    ', ',
                  )}
                </td>
                <td>
                  {m.use === 'single' ? 'once' : 'many times'}
                  <div className="muted small">
                    {complete ? '' : 'at least '}
                    {n} {n === 1 ? 'payment' : 'payments'}
                  </div>
                </td>
                <td>{formatDateTime(m.expiresAt)}</td>
                <td>
                  <span className={`badge mandate-${m.status}`}>{m.status}</span>
                </td>
                <td className="num">{formatMoney(m.amountCapMicros, m.currency)}</td>
                <td className="num">{formatMoney(m.remainingMicros, m.currency)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
