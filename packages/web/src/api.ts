import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { createClient, HangarError, type HangarClient } from '@hangar/sdk';

/** One API key the browser remembers, so several projects can be switched between. */
export interface StoredKey {
  projectId: string;
  projectName: string;
  key: string;
}

/** What the browser remembers between visits: the stored keys and which one is in use. */
export interface Session {
  keys: StoredKey[];
  currentProjectId: string | null;
}

const STORAGE_KEY = 'hangar.session';
const EMPTY: Session = { keys: [], currentProjectId: null };

// useSyncExternalStore needs the same object back while nothing changed, so the parsed session
// is cached against the raw string it came from.
let cachedRaw: string | null = null;
let cachedSession: Session = EMPTY;
const listeners = new Set<() => void>();

function parse(raw: string | null): Session {
  if (!raw) return EMPTY;
  try {
    const value = JSON.parse(raw) as Partial<Session>;
    const keys = Array.isArray(value.keys)
      ? value.keys.filter(
          (k): k is StoredKey =>
            typeof k === 'object' &&
            k !== null &&
            typeof k.projectId === 'string' &&
            typeof k.projectName === 'string' &&
            typeof k.key === 'string',
        )
      : [];
    const current = typeof value.currentProjectId === 'string' ? value.currentProjectId : null;
    return {
      keys,
      currentProjectId: keys.some((k) => k.projectId === current) ? current : (keys[0]?.projectId ?? null),
    };
  } catch {
    return EMPTY;
  }
}

function read(): Session {
  const raw = localStorage.getItem(STORAGE_KEY);
  if (raw !== cachedRaw) {
    cachedRaw = raw;
    cachedSession = parse(raw);
  }
  return cachedSession;
}

function write(session: Session): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab signing in or out changes this one too.
  const onStorage = (event: StorageEvent) => {
    if (event.key === STORAGE_KEY) listener();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

/** The stored keys and the current project; re-renders when either changes. */
export function useSession(): Session {
  return useSyncExternalStore(subscribe, read);
}

/** The stored key in use, or null when signed out. */
export function currentKey(session: Session): StoredKey | null {
  return session.keys.find((k) => k.projectId === session.currentProjectId) ?? null;
}

/**
 * Remembers a key, replacing any other key for the same project, and switches to its project unless
 * `switchTo` is false.
 */
export function storeKey(entry: StoredKey, { switchTo = true }: { switchTo?: boolean } = {}): void {
  const session = read();
  write({
    keys: [...session.keys.filter((k) => k.projectId !== entry.projectId), entry],
    currentProjectId: switchTo ? entry.projectId : session.currentProjectId,
  });
}

/** Switches to another project whose key is stored. */
export function switchProject(projectId: string): void {
  const session = read();
  if (session.keys.some((k) => k.projectId === projectId)) write({ ...session, currentProjectId: projectId });
}

/** Keeps the stored project name in step with the server after a rename. */
export function updateProjectName(projectId: string, projectName: string): void {
  const session = read();
  const entry = session.keys.find((k) => k.projectId === projectId);
  if (entry && entry.projectName !== projectName) {
    write({ ...session, keys: session.keys.map((k) => (k === entry ? { ...k, projectName } : k)) });
  }
}

/** Forgets the current key and falls back to another stored project, if any. */
export function signOut(): void {
  const session = read();
  const keys = session.keys.filter((k) => k.projectId !== session.currentProjectId);
  write({ keys, currentProjectId: keys[0]?.projectId ?? null });
}

/** A client for the server that served this page. */
export function clientFor(apiKey: string): HangarClient {
  return createClient({ baseUrl: window.location.origin, apiKey });
}

/** A client for the key in use; the same object until the key changes. */
export function useClient(apiKey: string): HangarClient {
  return useMemo(() => clientFor(apiKey), [apiKey]);
}

/** The state of one request made by {@link useRequest}. */
export type RequestState<T> =
  { status: 'loading' } | { status: 'ok'; data: T } | { status: 'error'; error: HangarError };

/** Every failure as a HangarError, so screens have one shape to show. */
export function toHangarError(error: unknown): HangarError {
  if (error instanceof HangarError) return error;
  return new HangarError(error instanceof Error ? error.message : String(error), {
    code: 'internal',
    status: 0,
    cause: error,
  });
}

/**
 * Runs `load` when it changes and again on `reload()`. A reload keeps showing the previous data until
 * the new data arrives, and a response that arrives after a newer request started is dropped, so
 * switching projects quickly never shows another project's data.
 */
export function useRequest<T>(load: () => Promise<T>): [RequestState<T>, () => void] {
  const [state, setState] = useState<RequestState<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loaded = useRef(load);

  useEffect(() => {
    let current = true;
    if (loaded.current !== load) {
      loaded.current = load;
      setState({ status: 'loading' });
    }
    load().then(
      (data) => {
        if (current) setState({ status: 'ok', data });
      },
      (error: unknown) => {
        if (current) setState({ status: 'error', error: toHangarError(error) });
      },
    );
    return () => {
      current = false;
    };
  }, [load, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return [state, reload];
}

/** For a form or button that changes something: runs `action`, keeping its error and whether it is under way. */
export function useSubmit(): [busy: boolean, error: HangarError | null, run: (action: () => Promise<void>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<HangarError | null>(null);
  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(toHangarError(e));
    } finally {
      setBusy(false);
    }
  }
  return [busy, error, run];
}

/** One page of a cursor-paged list. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A cursor-paged list loaded by {@link usePagedRequest}. */
export interface PagedRequest<T> {
  /** The first page's request; `items` holds every page loaded so far. */
  state: RequestState<Page<T>>;
  items: T[];
  reload: () => void;
  /** Null when there is no further page. */
  loadMore: (() => void) | null;
  loadingMore: boolean;
  moreError: HangarError | null;
}

/**
 * The first page of a list through {@link useRequest}, and further pages on `loadMore()`; a reload
 * starts again from the first page.
 */
export function usePagedRequest<T>(load: (cursor: string | undefined) => Promise<Page<T>>): PagedRequest<T> {
  const loadFirst = useCallback(() => load(undefined), [load]);
  const [state, reload] = useRequest(loadFirst);
  const [more, setMore] = useState<Page<T> | null>(null);
  const [moreError, setMoreError] = useState<HangarError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => setMore(null), [state]);

  const items = state.status === 'ok' ? [...state.data.items, ...(more?.items ?? [])] : [];
  const nextCursor = more ? more.nextCursor : state.status === 'ok' ? state.data.nextCursor : null;

  async function next(cursor: string) {
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await load(cursor);
      setMore({ items: [...(more?.items ?? []), ...page.items], nextCursor: page.nextCursor });
    } catch (e) {
      setMoreError(toHangarError(e));
    } finally {
      setLoadingMore(false);
    }
  }

  return {
    state,
    items,
    reload,
    loadMore: nextCursor ? () => void next(nextCursor) : null,
    loadingMore,
    moreError,
  };
}
