import { useId, type ReactNode } from 'react';

/**
 * A labelled form control. The label points at the control by id instead of wrapping it, so the
 * control's accessible name is just the label (a wrapped <select> would add its options to it).
 */
export function Field({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}
