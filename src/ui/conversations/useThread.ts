import { useEffect } from 'react';
import { EMPTY_THREAD, type Thread } from './threads';
import { useServices } from '../shell/useServices';
import { useStore } from '../common/useStore';

/** The conversation tab `key` shows (read from IndexedDB on first use) and whether it is read yet. */
export function useThread(key: string): { thread: Thread; ready: boolean } {
  const { threads } = useServices();
  const all = useStore(threads.state);
  const active = useStore(threads.active)[key];
  const opened = useStore(threads.opened);
  useEffect(() => {
    void threads.open(key);
  }, [threads, key]);
  return { thread: (active && all[active]) || EMPTY_THREAD, ready: opened.has(key) };
}
