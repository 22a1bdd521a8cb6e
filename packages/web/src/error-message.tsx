import type { ReactNode } from 'react';
import type { HangarError } from '@hangar/sdk';

/**
 * A failed request as a person should see it: the server's message, and the request id to quote;
 * with `onRetry`, a Try again button.
 */
export function ErrorMessage({
  error,
  onRetry,
  children,
}: {
  error: HangarError;
  onRetry?: () => void;
  children?: ReactNode;
}) {
  return (
    <div className="alert" role="alert">
      <p>{error.message}</p>
      {error.requestId ? (
        <p className="muted small">
          Request id: <code>{error.requestId}</code>
        </p>
      ) : null}
      {onRetry ? (
        <div className="actions">
          <button type="button" onClick={onRetry}>
            Try again
          </button>
        </div>
      ) : null}
      {children}
    </div>
  );
}
