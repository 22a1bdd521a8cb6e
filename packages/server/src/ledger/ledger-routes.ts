import { createRoute, z } from '@hono/zod-openapi';
import {
  Account,
  AccountKind,
  AccountList,
  CreateAccountRequest,
  CreateHoldRequest,
  CreateTransfersRequest,
  Hold,
  LedgerVerifyReport,
  PostHoldRequest,
  Transfer,
  TransferList,
} from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Ledger } from './ledger-service.js';

const idParam = z.object({ id: z.string().min(1).max(100) });
const page = {
  cursor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
};
/** Set on a response that replays an earlier request with the same idempotency key. */
const REPLAYED = 'idempotent-replayed';

const createAccount = createRoute({
  method: 'post',
  path: '/v1/ledger/accounts',
  tags: ['ledger'],
  summary: 'Create an account (with a code: once; the same request again returns it)',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateAccountRequest) },
  responses: {
    201: jsonResponse(Account, 'The new account'),
    200: jsonResponse(Account, 'The account that already had this code'),
    ...errorResponses('conflict'),
  },
});

const listAccounts = createRoute({
  method: 'get',
  path: '/v1/ledger/accounts',
  tags: ['ledger'],
  summary: 'Accounts with their balances',
  middleware: [requires('read')] as const,
  request: { query: z.object({ kind: AccountKind.optional(), ...page }) },
  responses: { 200: jsonResponse(AccountList, 'Accounts by id'), ...errorResponses() },
});

const getAccount = createRoute({
  method: 'get',
  path: '/v1/ledger/accounts/{id}',
  tags: ['ledger'],
  summary: 'One account with its balances',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Account, 'The account'), ...errorResponses('not_found') },
});

const createTransfers = createRoute({
  method: 'post',
  path: '/v1/ledger/transfers',
  tags: ['ledger'],
  summary: 'Transfer amounts between accounts; the transfers of one request commit all or nothing',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateTransfersRequest) },
  responses: {
    201: jsonResponse(z.object({ transfers: z.array(Transfer) }), 'The transfers, in request order'),
    ...errorResponses('not_found', 'insufficient_balance', 'idempotency_conflict', 'conflict'),
  },
});

const listTransfers = createRoute({
  method: 'get',
  path: '/v1/ledger/transfers',
  tags: ['ledger'],
  summary: 'Transfers, oldest first; of one account with accountId',
  middleware: [requires('read')] as const,
  request: { query: z.object({ accountId: z.string().max(100).optional(), ...page }) },
  responses: { 200: jsonResponse(TransferList, 'A page of transfers'), ...errorResponses() },
});

const createHold = createRoute({
  method: 'post',
  path: '/v1/ledger/holds',
  tags: ['ledger'],
  summary: 'Reserve an amount until posted, voided or timed out',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateHoldRequest) },
  responses: {
    201: jsonResponse(Hold, 'The pending hold'),
    ...errorResponses('not_found', 'insufficient_balance', 'idempotency_conflict'),
  },
});

const getHold = createRoute({
  method: 'get',
  path: '/v1/ledger/holds/{id}',
  tags: ['ledger'],
  summary: 'A hold and how it was resolved',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Hold, 'The hold'), ...errorResponses('not_found') },
});

const postHold = createRoute({
  method: 'post',
  path: '/v1/ledger/holds/{id}/post',
  tags: ['ledger'],
  summary: 'Charge the actual amount (at most the held amount) and release the rest',
  middleware: [requires('write')] as const,
  request: { params: idParam, body: { ...jsonBody(PostHoldRequest), required: false } },
  responses: {
    200: jsonResponse(Hold, 'The posted hold'),
    ...errorResponses('not_found', 'conflict', 'idempotency_conflict'),
  },
});

const voidHold = createRoute({
  method: 'post',
  path: '/v1/ledger/holds/{id}/void',
  tags: ['ledger'],
  summary: 'Release a hold entirely',
  middleware: [requires('write')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Hold, 'The voided hold'), ...errorResponses('not_found', 'conflict') },
});

const verify = createRoute({
  method: 'post',
  path: '/v1/ledger/verify',
  tags: ['ledger'],
  summary: 'Recompute every balance from the transfers and check every invariant',
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(LedgerVerifyReport, 'The verification report'), ...errorResponses() },
});

export function ledgerRoutes(ledger: Ledger) {
  return createRouter()
    .openapi(createAccount, async (c) => {
      const { account, created } = await ledger.createAccount(c.get('auth').project.id, c.req.valid('json'));
      return created ? c.json(account, 201) : c.json(account, 200);
    })
    .openapi(listAccounts, async (c) => c.json(await ledger.listAccounts(c.get('auth').project.id, c.req.valid('query')), 200))
    .openapi(getAccount, async (c) => c.json(await ledger.getAccount(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(createTransfers, async (c) => {
      const { transfers } = c.req.valid('json');
      const result = await ledger.commitDetailed(
        c.get('auth').project.id,
        transfers.map((t) => ({ type: 'transfer', ...t })),
      );
      if (result.replayed) c.header(REPLAYED, 'true');
      return c.json({ transfers: result.transfers }, 201);
    })
    .openapi(listTransfers, async (c) => c.json(await ledger.listTransfers(c.get('auth').project.id, c.req.valid('query')), 200))
    .openapi(createHold, async (c) => {
      const projectId = c.get('auth').project.id;
      const result = await ledger.commitDetailed(projectId, [{ type: 'hold', ...c.req.valid('json') }]);
      if (result.replayed) c.header(REPLAYED, 'true');
      return c.json(await ledger.getHold(projectId, result.transfers[0]!.id), 201);
    })
    .openapi(getHold, async (c) => c.json(await ledger.getHold(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(postHold, async (c) => {
      const body = c.req.valid('json') as { amountMicros?: number } | undefined;
      return c.json(await ledger.post(c.get('auth').project.id, c.req.valid('param').id, body?.amountMicros), 200);
    })
    .openapi(voidHold, async (c) => c.json(await ledger.void(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(verify, async (c) => c.json(await ledger.verify(c.get('auth').project.id), 200));
}
