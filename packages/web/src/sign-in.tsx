import { useState, type FormEvent } from 'react';
import type { HangarError } from '@hangar/sdk';
import { clientFor, storeKey, toHangarError } from './api.js';
import { ErrorMessage } from './error-message.js';
import { Field } from './field.js';

/**
 * Signs in with an API key: the key is checked with `whoami` before it is remembered, so a typo
 * never leaves the browser holding a key that does not work.
 */
export function SignIn({ onCancel }: { onCancel?: () => void }) {
  const [apiKey, setApiKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<HangarError | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const key = apiKey.trim();
    if (!key) return;
    setBusy(true);
    setError(null);
    try {
      const me = await clientFor(key).whoami();
      storeKey({ projectId: me.project.id, projectName: me.project.name, key });
      onCancel?.();
    } catch (e) {
      setError(toHangarError(e));
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={(e) => void submit(e)}>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Hangar
        </div>
        <h1>{onCancel ? 'Add a project key' : 'Sign in'}</h1>
        <p className="muted">
          Paste an API key for a project. Admins create keys under Settings; the server&rsquo;s first admin
          key is the one it was started with (<code>HANGAR_ADMIN_KEY</code>).
        </p>
        <Field label="API key">
          {(id) => (
            <input
              id={id}
              type="password"
              name="apiKey"
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              placeholder="hk_…"
              autoComplete="off"
              spellCheck={false}
              required
              autoFocus
            />
          )}
        </Field>
        {error ? <ErrorMessage error={error} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Sign in
          </button>
          {onCancel ? (
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
        </div>
        <p className="muted small">
          The key is kept in this browser&rsquo;s local storage until you sign out.
        </p>
      </form>
    </main>
  );
}
