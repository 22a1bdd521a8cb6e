import { useRef, useState } from 'react';

/** A secret shown once, with a copy button; the server never returns it again. */
export function SecretBox({ label, secret }: { label: string; secret: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const input = useRef<HTMLInputElement>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      // The clipboard API needs a secure context (https or localhost); select the text instead.
      input.current?.select();
      setCopied('failed');
    }
  }

  return (
    <div className="secret-box" role="status">
      <p>
        <strong>{label}</strong> Copy this key now — it will not be shown again.
      </p>
      <div className="secret-row">
        <input
          ref={input}
          readOnly
          value={secret}
          aria-label="New API key"
          spellCheck={false}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" onClick={() => void copy()}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === 'failed' ? (
        <p className="small">The browser refused the clipboard; the key is selected — press Ctrl+C.</p>
      ) : null}
    </div>
  );
}
