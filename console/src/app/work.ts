import { useCallback, useEffect, useState } from 'preact/hooks';

/**
 * What an administrator is in the middle of, per connection: the preview being looked at, the users
 * ticked in it, the import being watched. Kept in localStorage (ids and names only, nothing secret) so that moving between screens, a new tab or a
 * sign-in redirect, does not lose a 100,000-user preview or a running import's progress bar.
 */
export interface ConnectionWork {
  readonly previewJobId: string | null;
  /** Users the finished preview read: the import's progress bar estimates its total from it. */
  readonly previewUsers: number | null;
  /** Ticked users: Entra object id to the name shown. */
  readonly selected: Readonly<Record<string, string>>;
  readonly importJobId: string | null;
  /** What the running import covers, for its progress estimate. */
  readonly importSelectedCount: number | null;
}

const EMPTY: ConnectionWork = {
  previewJobId: null,
  previewUsers: null,
  selected: {},
  importJobId: null,
  importSelectedCount: null,
};

const listeners = new Map<string, Set<(work: ConnectionWork) => void>>();

const storageKey = (connectionId: string): string => `entrasync.work.${connectionId}`;

function read(connectionId: string): ConnectionWork {
  try {
    const text = localStorage.getItem(storageKey(connectionId));
    return text === null ? EMPTY : { ...EMPTY, ...(JSON.parse(text) as Partial<ConnectionWork>) };
  } catch {
    return EMPTY;
  }
}

function write(connectionId: string, work: ConnectionWork): void {
  try {
    localStorage.setItem(storageKey(connectionId), JSON.stringify(work));
  } catch {
    // Storage full or disabled: the work still lives in memory for this page.
  }
  for (const listener of listeners.get(connectionId) ?? []) listener(work);
}

export type WorkUpdate = Partial<ConnectionWork> | ((work: ConnectionWork) => Partial<ConnectionWork>);

export function useConnectionWork(connectionId: string): [ConnectionWork, (update: WorkUpdate) => void] {
  const [work, setWork] = useState(() => read(connectionId));
  useEffect(() => {
    setWork(read(connectionId));
    const set = listeners.get(connectionId) ?? new Set();
    listeners.set(connectionId, set);
    set.add(setWork);
    return () => {
      set.delete(setWork);
    };
  }, [connectionId]);
  const update = useCallback(
    (change: WorkUpdate) => {
      const current = read(connectionId);
      write(connectionId, { ...current, ...(typeof change === 'function' ? change(current) : change) });
    },
    [connectionId],
  );
  return [work, update];
}
