import type {
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
import { enc, type Call } from './call.js';


/** Payments under mandates, the agents' payment limits and the humans who sign mandates. */
export function paymentMethods(call: Call) {
  return {
    payments: {
      /**
       * Pays under a mandate: `captured`, or `failed` with `failureReason`; `payment_refused` names the
       * rule that stopped it. A payment that needs approval throws `approval_required` with
       * `details.approvalId`; once approved, send the same request again with the approval's token.
       * @example
       * const payment = await hangar.payments.create(request, { approval: (await hangar.approvals.get(id)).token! });
       */
      create: (request: CreatePaymentRequest, options: { approval?: string } = {}) =>
        call<Payment>('POST', '/v1/payments', request, undefined, options.approval ? { 'x-hangar-approval': options.approval } : {}),
      /** Newest first. */
      list: (options: { limit?: number } = {}) =>
        call<PaymentList>('GET', '/v1/payments', undefined, options),
      get: (id: string) => call<Payment>('GET', `/v1/payments/${enc(id)}`),
      /** Admin: refunds on the rail; the amount returns to the mandate. */
      refund: (id: string) => call<Payment>('POST', `/v1/payments/${enc(id)}/refund`),
      /** Admin: an agent's limits in one currency; without limits an agent cannot pay. */
      setLimits: (agentId: string, request: SetPaymentLimitsRequest) =>
        call<PaymentLimits>('PUT', `/v1/payments/limits/${enc(agentId)}`, request),
      limits: (agentId: string, currency = 'USD') =>
        call<PaymentLimits>('GET', `/v1/payments/limits/${enc(agentId)}`, undefined, { currency }),
    },
    mandates: {
      /** Mandates with their status and what remains of their caps. */
      list: () => call<{ mandates: Mandate[] }>('GET', '/v1/mandates'),
      /** A mandate signed (Ed25519, over the canonical JSON of its terms) by a registered signer. */
      create: (request: CreateMandateRequest) => call<Mandate>('POST', '/v1/mandates', request),
      /** Admin: registers a human's public key, to sign mandates. */
      registerSigner: (request: RegisterSignerRequest) =>
        call<Signer>('POST', '/v1/mandates/signers', request),
    },
  };
}
