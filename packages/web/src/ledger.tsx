import { useCallback, useEffect, useState } from 'react';
import type { HangarClient, HangarError } from '@hangar/sdk';
import type { Account, AccountKind, Hold, LedgerVerifyReport, Transfer } from '@hangar/protocol';
import { ACCOUNT_KINDS } from '@hangar/protocol';
import { toHangarError, useRequest } from './api.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';
import { formatMoney, formatTime } from './format.js';

/** How many of an account's transfers one request loads (the API's maximum). */
const TRANSFER_PAGE = 1000;
/** Holds checked with the server at once for the open-holds list. */
const MAX_OPEN_HOLDS = 50;

const KIND_LABELS: Record<Transfer['kind'], string> = {
  posted: 'transfer',
  pending: 'hold',
  post_pending: 'post',
  void_pending: 'void',
  expire_pending: 'expiry',
};

/** Transfers by time, newest first (ids order by time only to the millisecond). */
function newestFirst(transfers: Transfer[]): Transfer[] {
  return [...transfers].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/**
 * The ledger explorer: accounts with their balances; an account's open holds and transfers; a
 * transfer with the hold it resolves (or its resolution) and the transfers committed with it.
 */
export function LedgerPage({ client }: { client: HangarClient }) {
  const [kind, setKind] = useState<AccountKind | ''>('');
  const loadFirst = useCallback(
    () => client.ledger.accounts({ limit: 200, ...(kind ? { kind } : {}) }),
    [client, kind],
  );
  const [first, reload] = useRequest(loadFirst);
  const [more, setMore] = useState<{ accounts: Account[]; nextCursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<HangarError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [report, setReport] = useState<LedgerVerifyReport | null>(null);
  const [verifyError, setVerifyError] = useState<HangarError | null>(null);
  useEffect(() => setMore(null), [first]);

  const accounts = first.status === 'ok' ? [...first.data.accounts, ...(more?.accounts ?? [])] : [];
  const nextCursor = more ? more.nextCursor : first.status === 'ok' ? first.data.nextCursor : null;
  const names = new Map(accounts.map((a) => [a.id, a.name]));

  async function loadMore() {
    if (!nextCursor) return;
    setMoreError(null);
    try {
      const page = await client.ledger.accounts({
        limit: 200,
        cursor: nextCursor,
        ...(kind ? { kind } : {}),
      });
      setMore({ accounts: [...(more?.accounts ?? []), ...page.accounts], nextCursor: page.nextCursor });
    } catch (e) {
      setMoreError(toHangarError(e));
    }
  }

  async function verify() {
    setReport(null);
    setVerifyError(null);
    try {
      setReport(await client.ledger.verify());
    } catch (e) {
      setVerifyError(toHangarError(e));
    }
  }

  return (
    <section className="page page-wide">
      <div className="page-head">
        <h1>Ledger</h1>
        <button type="button" onClick={() => void verify()}>
          Verify the ledger
        </button>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <p className="muted">
        Double-entry accounts in integer micro-units. A balance is credits minus debits; available is the
        balance minus what holds reserve. Nothing is ever changed or deleted: corrections are new transfers.
      </p>
      {verifyError ? <ErrorMessage error={verifyError} /> : null}
      {report ? (
        <p role="status" className={report.ok ? undefined : 'danger-text'}>
          {report.ok
            ? `Balanced: ${report.accounts} accounts and ${report.transfers} transfers recomputed, ${report.openHolds} open holds.`
            : `Problems: ${report.problems.map((p) => `${p.reason.replaceAll('_', ' ')}${p.accountId ? ` on ${p.accountId}` : ''}${p.transferId ? ` in ${p.transferId}` : ''}`).join('; ')}.`}
        </p>
      ) : null}
      <form className="filters" aria-label="Account filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Kind">
          {(id) => (
            <select
              id={id}
              value={kind}
              onChange={(e) => {
                setSelected(null);
                setKind(e.target.value as AccountKind | '');
              }}
            >
              <option value="">All kinds</option>
              {ACCOUNT_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k.replaceAll('_', ' ')}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {first.status === 'loading' ? (
        <p className="muted">Loading accounts…</p>
      ) : first.status === 'error' ? (
        <ErrorMessage error={first.error} onRetry={reload} />
      ) : accounts.length === 0 ? (
        <p className="muted">
          No {kind ? `${kind.replaceAll('_', ' ')} ` : ''}accounts yet. Budgets and payments open theirs;
          create your own with POST /v1/ledger/accounts.
        </p>
      ) : (
        <div className="table-scroll panel flush">
          <table className="data" aria-label="Accounts">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Balance
                </th>
                <th scope="col" className="num">
                  Available
                </th>
                <th scope="col" className="num">
                  Held
                </th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr key={a.id} aria-selected={selected === a.id}>
                  <td>
                    <button type="button" className="ghost link" onClick={() => setSelected(a.id)}>
                      {a.name}
                    </button>
                    {a.code ? <div className="muted small mono">{a.code}</div> : null}
                  </td>
                  <td>{a.kind.replaceAll('_', ' ')}</td>
                  <td className="num">{formatMoney(a.balanceMicros, a.currency)}</td>
                  <td className="num">{formatMoney(a.availableMicros, a.currency)}</td>
                  <td className="num">
                    {a.debitsPendingMicros ? (
                      formatMoney(a.debitsPendingMicros, a.currency)
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {moreError ? <ErrorMessage error={moreError} /> : null}
      {nextCursor ? (
        <div className="actions">
          <button type="button" onClick={() => void loadMore()}>
            Load more accounts
          </button>
        </div>
      ) : null}
      {selected ? <AccountDetail key={selected} client={client} accountId={selected} names={names} /> : null}
    </section>
  );
}

function AccountDetail({
  client,
  accountId,
  names,
}: {
  client: HangarClient;
  accountId: string;
  names: Map<string, string>;
}) {
  const load = useCallback(async () => {
    const [account, page] = await Promise.all([
      client.ledger.account(accountId),
      client.ledger.transfers({ accountId, limit: TRANSFER_PAGE }),
    ]);
    // A hold is open until a post, void or expiry resolves it; the candidates are checked with the
    // server, since a resolution can be past the loaded page.
    const resolved = new Set(page.transfers.flatMap((t) => (t.pendingId ? [t.pendingId] : [])));
    const candidates = page.transfers
      .filter((t) => t.kind === 'pending' && !resolved.has(t.id))
      .slice(-MAX_OPEN_HOLDS);
    const holds = await Promise.all(candidates.map((t) => client.ledger.getHold(t.id)));
    return {
      account,
      transfers: page.transfers,
      more: page.nextCursor !== null,
      openHolds: holds.filter((h) => h.status === 'pending'),
    };
  }, [client, accountId]);
  const [state, reload] = useRequest(load);
  const [transferId, setTransferId] = useState<string | null>(null);

  if (state.status === 'loading') return <p className="muted">Loading account…</p>;
  if (state.status === 'error') return <ErrorMessage error={state.error} />;
  const { account: a, transfers, more, openHolds } = state.data;
  const money = (micros: number | null) => formatMoney(micros, a.currency);
  const nameOf = (id: string) => (id === a.id ? 'this account' : (names.get(id) ?? id));
  const selected = transfers.find((t) => t.id === transferId) ?? null;

  return (
    <section className="panel" aria-label={`Account ${a.name}`}>
      <div className="page-head">
        <h2>{a.name}</h2>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <dl className="facts">
        <dt>Balance</dt>
        <dd>{money(a.balanceMicros)}</dd>
        <dt>Available</dt>
        <dd>{money(a.availableMicros)}</dd>
        <dt>Debits posted</dt>
        <dd>{money(a.debitsPostedMicros)}</dd>
        <dt>Credits posted</dt>
        <dd>{money(a.creditsPostedMicros)}</dd>
        <dt>Debits held</dt>
        <dd>{money(a.debitsPendingMicros)}</dd>
        <dt>Credits held</dt>
        <dd>{money(a.creditsPendingMicros)}</dd>
        <dt>Bounds</dt>
        <dd>
          {a.minBalanceMicros === null && a.maxBalanceMicros === null
            ? 'none'
            : [
                a.minBalanceMicros !== null ? `at least ${money(a.minBalanceMicros)}` : '',
                a.maxBalanceMicros !== null ? `at most ${money(a.maxBalanceMicros)}` : '',
              ]
                .filter(Boolean)
                .join(', ')}
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{a.id}</code>
        </dd>
      </dl>

      <h3>Open holds</h3>
      {openHolds.length === 0 ? (
        <p className="muted">No open holds.</p>
      ) : (
        <table className="data" aria-label="Open holds">
          <thead>
            <tr>
              <th scope="col">Hold</th>
              <th scope="col">From → to</th>
              <th scope="col">Expires</th>
              <th scope="col" className="num">
                Held
              </th>
            </tr>
          </thead>
          <tbody>
            {openHolds.map((h) => (
              <tr key={h.id}>
                <td>
                  <button type="button" className="ghost link" onClick={() => setTransferId(h.id)}>
                    <code>{h.id}</code>
                  </button>
                  {h.transfer.memo ? <div className="muted small">{h.transfer.memo}</div> : null}
                </td>
                <td>
                  {nameOf(h.transfer.debitAccountId)} → {nameOf(h.transfer.creditAccountId)}
                </td>
                <td>{h.transfer.timeoutAt ? formatTime(h.transfer.timeoutAt) : '—'}</td>
                <td className="num">{money(h.transfer.amountMicros)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Transfers</h3>
      {transfers.length === 0 ? (
        <p className="muted">No transfers yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data" aria-label="Transfers">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Kind</th>
                <th scope="col">From → to</th>
                <th scope="col">Memo</th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {newestFirst(transfers).map((t) => (
                <tr key={t.id} aria-selected={transferId === t.id}>
                  <td>
                    <button
                      type="button"
                      className="ghost link"
                      onClick={() => setTransferId(t.id)}
                      title={t.id}
                    >
                      {formatTime(t.createdAt)}
                    </button>
                  </td>
                  <td>
                    <span className={`badge transfer-${t.kind}`}>{KIND_LABELS[t.kind]}</span>
                  </td>
                  <td>
                    {nameOf(t.debitAccountId)} → {nameOf(t.creditAccountId)}
                  </td>
                  <td className="muted">{t.memo ?? ''}</td>
                  <td className="num">
                    {t.debitAccountId === a.id ? '−' : '+'}
                    {money(t.amountMicros)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {more ? (
        <p className="muted small">Showing the first {TRANSFER_PAGE} transfers of this account.</p>
      ) : null}
      {transferId ? (
        <TransferDetail
          key={transferId}
          client={client}
          transferId={transferId}
          known={selected}
          batch={transfers}
          nameOf={nameOf}
          currency={a.currency}
          onOpen={setTransferId}
        />
      ) : null}
    </section>
  );
}

/**
 * One transfer: its fields, the hold it belongs to (a hold and its post, void or expiry are linked),
 * and the other transfers of its batch (committed together, all or nothing) among this account's.
 */
function TransferDetail({
  client,
  transferId,
  known,
  batch,
  nameOf,
  currency,
  onOpen,
}: {
  client: HangarClient;
  transferId: string;
  known: Transfer | null;
  batch: Transfer[];
  nameOf: (id: string) => string;
  currency: string;
  onOpen: (id: string) => void;
}) {
  const load = useCallback(async (): Promise<{ transfer: Transfer | null; hold: Hold | null }> => {
    // a hold is fetched by its own id; a post, void or expiry by the hold it resolves
    const holdId = known ? (known.kind === 'pending' ? known.id : known.pendingId) : transferId;
    if (!holdId) return { transfer: known, hold: null };
    const hold = await client.ledger.getHold(holdId);
    const transfer = known ?? (hold.transfer.id === transferId ? hold.transfer : hold.resolution);
    return { transfer, hold };
  }, [client, transferId, known]);
  const [state] = useRequest(load);
  if (state.status === 'loading') return <p className="muted">Loading transfer…</p>;
  if (state.status === 'error') return <ErrorMessage error={state.error} />;
  const { transfer: t, hold } = state.data;
  if (!t) return <p className="muted">Transfer {transferId} is not among this account’s loaded transfers.</p>;
  const money = (micros: number) => formatMoney(micros, currency);
  const linked = [
    ...(hold ? [hold.transfer, ...(hold.resolution ? [hold.resolution] : [])] : []),
    ...batch.filter((b) => b.batchId === t.batchId),
  ].filter((x, i, all) => x.id !== t.id && all.findIndex((y) => y.id === x.id) === i);

  return (
    <section className="panel inset" aria-label={`Transfer ${t.id}`}>
      <h3>
        {KIND_LABELS[t.kind]} <code>{t.id}</code>
      </h3>
      <dl className="facts">
        <dt>Amount</dt>
        <dd>{money(t.amountMicros)}</dd>
        <dt>Time</dt>
        <dd>{formatTime(t.createdAt)}</dd>
        <dt>From</dt>
        <dd>{nameOf(t.debitAccountId)}</dd>
        <dt>To</dt>
        <dd>{nameOf(t.creditAccountId)}</dd>
        <dt>Idempotency key</dt>
        <dd>
          <code>{t.idempotencyKey}</code>
        </dd>
        <dt>Batch</dt>
        <dd>
          <code>{t.batchId}</code>
        </dd>
        {t.memo ? (
          <>
            <dt>Memo</dt>
            <dd>{t.memo}</dd>
          </>
        ) : null}
        {hold ? (
          <>
            <dt>Hold</dt>
            <dd>
              <span className={`badge hold-${hold.status}`}>{hold.status}</span>{' '}
              {money(hold.transfer.amountMicros)} held
              {hold.resolution && hold.status === 'posted'
                ? `, ${money(hold.resolution.amountMicros)} charged`
                : ''}
            </dd>
          </>
        ) : null}
      </dl>
      <h4>Linked transfers</h4>
      {linked.length === 0 ? (
        <p className="muted small">None: this transfer was committed on its own.</p>
      ) : (
        <ul aria-label="Linked transfers" className="linked">
          {linked.map((x) => (
            <li key={x.id}>
              <button type="button" className="ghost link" onClick={() => onOpen(x.id)}>
                {KIND_LABELS[x.kind]} <code>{x.id}</code>
              </button>{' '}
              {money(x.amountMicros)}, {nameOf(x.debitAccountId)} → {nameOf(x.creditAccountId)}
              <span className="muted small">
                {' '}
                (
                {x.id === hold?.transfer.id
                  ? 'the hold'
                  : x.pendingId && x.pendingId === hold?.transfer.id
                    ? 'resolves the hold'
                    : 'same batch'}
                )
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
