import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateMandateRequest,
  CreatePaymentRequest,
  Mandate,
  Payment,
  PaymentLimits,
  PaymentList,
  RegisterSignerRequest,
  SetPaymentLimitsRequest,
  Signer,
} from '@hangar/protocol';
import { actorChainOf } from '../http/app-env.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Payments } from './payments-service.js';

const agentParam = z.object({ agentId: z.string().min(1).max(200) });
const idParam = z.object({ id: z.string().min(1).max(100) });

const putLimits = createRoute({
  method: 'put',
  path: '/v1/payments/limits/{agentId}',
  tags: ['payments'],
  summary: "Set an agent's payment limits in one currency",
  middleware: [requires('admin')] as const,
  request: { params: agentParam, body: jsonBody(SetPaymentLimitsRequest) },
  responses: { 200: jsonResponse(PaymentLimits, 'The limits'), ...errorResponses() },
});

const getLimits = createRoute({
  method: 'get',
  path: '/v1/payments/limits/{agentId}',
  tags: ['payments'],
  summary: "An agent's payment limits",
  middleware: [requires('read')] as const,
  request: { params: agentParam, query: z.object({ currency: z.string().max(10).default('USD') }) },
  responses: { 200: jsonResponse(PaymentLimits, 'The limits'), ...errorResponses('not_found') },
});

const registerSigner = createRoute({
  method: 'post',
  path: '/v1/mandates/signers',
  tags: ['payments'],
  summary: "Register a human principal's Ed25519 public key, to sign mandates",
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(RegisterSignerRequest) },
  responses: { 201: jsonResponse(Signer, 'The signer'), ...errorResponses() },
});

const createMandate = createRoute({
  method: 'post',
  path: '/v1/mandates',
  tags: ['payments'],
  summary: 'Register a mandate signed by a human principal',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateMandateRequest) },
  responses: { 201: jsonResponse(Mandate, 'The mandate with what remains of its cap'), ...errorResponses('not_found') },
});

const listMandates = createRoute({
  method: 'get',
  path: '/v1/mandates',
  tags: ['payments'],
  summary: 'Mandates with their status and remaining amount',
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(z.object({ mandates: z.array(Mandate) }), 'Mandates'), ...errorResponses() },
});

const createPayment = createRoute({
  method: 'post',
  path: '/v1/payments',
  tags: ['payments'],
  summary: 'Pay a payee under a mandate (captured, or failed on the rail)',
  description:
    'A payment.create action: authorized by the credential scopes, declared intent and Cedar policies (denied unless a policy permits it), then by payment limits and the mandate. When an approval is required, present its token in x-hangar-approval.',
  middleware: [requires('write', { agentAction: true })] as const,
  request: {
    body: jsonBody(CreatePaymentRequest),
    headers: z.object({ 'x-hangar-approval': z.string().max(10_000).optional().describe('A signed approval for exactly this payment') }),
  },
  responses: {
    201: jsonResponse(Payment, 'The payment: captured, or failed with failureReason'),
    ...errorResponses('payment_refused', 'policy_denied', 'intent_violation', 'approval_required', 'approval_invalid', 'idempotency_conflict', 'not_found'),
  },
});

const listPayments = createRoute({
  method: 'get',
  path: '/v1/payments',
  tags: ['payments'],
  summary: 'Payments, newest first',
  middleware: [requires('read')] as const,
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
  responses: { 200: jsonResponse(PaymentList, 'Payments'), ...errorResponses() },
});

const getPayment = createRoute({
  method: 'get',
  path: '/v1/payments/{id}',
  tags: ['payments'],
  summary: 'One payment',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Payment, 'The payment'), ...errorResponses('not_found') },
});

const refund = createRoute({
  method: 'post',
  path: '/v1/payments/{id}/refund',
  tags: ['payments'],
  summary: 'Refund a captured payment; the amount returns to its mandate',
  middleware: [requires('admin')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Payment, 'The refunded payment'), ...errorResponses('not_found', 'conflict') },
});

export function paymentsRoutes(payments: Payments) {
  return createRouter()
    .openapi(putLimits, async (c) =>
      c.json(await payments.setLimits(c.get('auth').project.id, c.req.valid('param').agentId, c.req.valid('json')), 200),
    )
    .openapi(getLimits, async (c) =>
      c.json(await payments.getLimits(c.get('auth').project.id, c.req.valid('param').agentId, c.req.valid('query').currency), 200),
    )
    .openapi(registerSigner, async (c) => c.json(await payments.registerSigner(c.get('auth').project.id, c.req.valid('json')), 201))
    .openapi(createMandate, async (c) => c.json(await payments.createMandate(c.get('auth').project.id, c.req.valid('json')), 201))
    .openapi(listMandates, async (c) => c.json({ mandates: await payments.listMandates(c.get('auth').project.id) }, 200))
    .openapi(createPayment, async (c) => {
      const auth = c.get('auth');
      const payment = await payments.pay({
        projectId: auth.project.id,
        actor: actorChainOf(auth),
        input: c.req.valid('json'),
        approval: c.req.valid('header')['x-hangar-approval'],
      });
      return c.json(payment, 201);
    })
    .openapi(listPayments, async (c) => c.json({ payments: await payments.list(c.get('auth').project.id, c.req.valid('query').limit) }, 200))
    .openapi(getPayment, async (c) => c.json(await payments.get(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(refund, async (c) => c.json(await payments.refund(c.get('auth').project.id, c.req.valid('param').id), 200));
}
