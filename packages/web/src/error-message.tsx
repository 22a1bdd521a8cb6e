import type { ReactNode } from 'react';
import type { HangarError } from '@hangar/sdk';

/** A failed request as a person should see it: the server's message, and the request id to quote. */
export function ErrorMessage({ error, children }: { error: HangarError; children?: ReactNode }) {
  return (
    <div className="alert" role="alert">
      <p>{error.message}</p>
      {error.requestId ? (
        <p className="muted small">
          Request id: <code>{error.requestId}</code>
        </p>
      ) : null}
      {children}
    </div>
  );
}
