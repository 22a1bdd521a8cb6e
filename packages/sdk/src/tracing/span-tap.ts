import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Listeners offered every span a HangarSpanProcessor sees end. The eval runner taps here to give
 * trajectory scorers a trial's own spans (tool arguments included) without a round trip, whoever
 * set up tracing: the runner or the application before it.
 */
const taps = new Set<(span: ReadableSpan) => void>();

/** Adds a listener; returns the function that removes it. */
export function addSpanTap(tap: (span: ReadableSpan) => void): () => void {
  taps.add(tap);
  return () => taps.delete(tap);
}

export function offerToTaps(span: ReadableSpan): void {
  for (const tap of taps) tap(span);
}
