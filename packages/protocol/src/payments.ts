import { z } from 'zod';
import { Currency, IdempotencyKey, Micros } from './ledger.js';
import { Timestamp } from './schemas.js';

const Payee = z.string().min(1).max(200).describe('Who is paid, e.g. a merchant id or an x402 pay-to address');
const Category = z.string().min(1).max(100);

export const SetPaymentLimitsRequest = z
  .object({
    currency: Currency.default('USD'),
    perTransactionMicros: Micros.nullable().default(null),
    perDayMicros: Micros.nullable().default(null).describe('Per calendar day in timeZone'),
    timeZone: z.string().min(1).max(64).default('UTC'),
    payees: z.array(Payee).max(1000).nullable().default(null).describe('Allowlist; null allows any payee a mandate allows'),
    approvalOverMicros: Micros.nullable().default(null).describe('Payments above this need a human approval'),
  })
  .strict();
export type SetPaymentLimitsRequest = z.input<typeof SetPaymentLimitsRequest>;

export const PaymentLimits = z.object({
  agentId: z.string(),
  currency: z.string(),
  perTransactionMicros: z.number().int().nullable(),
  perDayMicros: z.number().int().nullable(),
  timeZone: z.string(),
  payees: z.array(z.string()).nullable(),
  approvalOverMicros: z.number().int().nullable(),
  updatedAt: Timestamp,
});
export type PaymentLimits = z.infer<typeof PaymentLimits>;

export const RegisterSignerRequest = z
  .object({
    name: z.string().trim().min(1).max(200).describe('The human principal, e.g. alice@example.com'),
    publicKey: z.string().min(40).max(2000).describe('Ed25519 public key: PEM (SPKI) or base64url of the 32 raw bytes'),
  })
  .strict();
export type RegisterSignerRequest = z.input<typeof RegisterSignerRequest>;

export const Signer = z.object({ id: z.string(), name: z.string(), publicKey: z.string(), createdAt: Timestamp });
export type Signer = z.infer<typeof Signer>;

/** What a human signs: canonical JSON of these terms (keys sorted), signed with Ed25519. */
export const MandateTerms = z
  .object({
    signerId: z.string().min(1).max(100),
    agentId: z.string().min(1).max(200),
    amountCapMicros: Micros.min(1),
    currency: Currency,
    payees: z.array(Payee).max(1000).nullable().default(null),
    merchantCategories: z.array(Category).max(100).nullable().default(null),
    expiresAt: Timestamp,
    use: z.enum(['single', 'multiple']),
    nonce: z.string().min(8).max(100).describe('Makes each mandate unique'),
  })
  .strict()
  .refine((t) => t.payees !== null || t.merchantCategories !== null, 'a mandate names payees or merchant categories');
export type MandateTerms = z.input<typeof MandateTerms>;

export const CreateMandateRequest = z
  .object({
    terms: MandateTerms,
    signature: z.string().min(40).max(200).describe('base64url Ed25519 signature of the canonical JSON of terms'),
  })
  .strict();
export type CreateMandateRequest = z.input<typeof CreateMandateRequest>;

export const Mandate = z.object({
  id: z.string(),
  signerId: z.string(),
  agentId: z.string(),
  amountCapMicros: z.number().int(),
  currency: z.string(),
  payees: z.array(z.string()).nullable(),
  merchantCategories: z.array(z.string()).nullable(),
  expiresAt: Timestamp,
  use: z.enum(['single', 'multiple']),
  status: z.enum(['active', 'used', 'expired']),
  remainingMicros: z.number().int(),
  accountId: z.string(),
  createdAt: Timestamp,
});
export type Mandate = z.infer<typeof Mandate>;

export const CreatePaymentRequest = z
  .object({
    agentId: z.string().min(1).max(200),
    mandateId: z.string().min(1).max(100),
    payee: Payee,
    amountMicros: Micros.min(1),
    currency: Currency.default('USD'),
    purpose: z.string().trim().min(1).max(500),
    merchantCategory: Category.optional(),
    idempotencyKey: IdempotencyKey,
  })
  .strict();
export type CreatePaymentRequest = z.input<typeof CreatePaymentRequest>;

/**
 * `authorizing` (recorded, money held, rail not yet answered) → `authorized` (the rail's reference
 * recorded) → `settling` (captured on the rail, ledger post under way) → `captured` (captured and
 * posted: final). A process killed in between is finished by the recovery sweep (docs/ledger.md).
 */
export const PAYMENT_STATUSES = ['pending_approval', 'authorizing', 'authorized', 'settling', 'captured', 'failed', 'refunded'] as const;

export const Payment = z.object({
  id: z.string(),
  agentId: z.string(),
  mandateId: z.string(),
  payee: z.string(),
  amountMicros: z.number().int(),
  currency: z.string(),
  purpose: z.string(),
  merchantCategory: z.string().nullable(),
  status: z.enum(PAYMENT_STATUSES),
  rail: z.string(),
  railRef: z.string().nullable(),
  holdIds: z.array(z.string()),
  failureReason: z.string().nullable(),
  idempotencyKey: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Payment = z.infer<typeof Payment>;

export const PaymentList = z.object({ payments: z.array(Payment) });
export type PaymentList = z.infer<typeof PaymentList>;
