import { useState } from 'react';
import { currentKey, useSession } from './api.js';
import { Shell } from './shell.js';
import { SignIn } from './sign-in.js';

/** Signed out: the sign-in form. Signed in: the shell for the current project's key. */
export function App() {
  const session = useSession();
  const current = currentKey(session);
  const [addingKey, setAddingKey] = useState(false);

  if (!current) return <SignIn />;
  if (addingKey) return <SignIn onCancel={() => setAddingKey(false)} />;
  // Keyed by project so that switching projects starts every screen from a clean state.
  return (
    <Shell key={current.projectId} session={session} current={current} onAddKey={() => setAddingKey(true)} />
  );
}
