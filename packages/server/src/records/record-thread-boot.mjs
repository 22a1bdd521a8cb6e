// Entry of the record thread (record-thread.ts): the server runs its TypeScript sources through tsx,
// and a thread does not inherit the loader its process registered, so it registers its own.
import { register } from 'tsx/esm/api';

register();
await import('./record-thread-worker.ts');
