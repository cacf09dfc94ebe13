import { useSyncExternalStore } from 'react';
import type { Store } from './store';

/** The store's current value; the component re-renders when it changes. */
export function useStore<T>(store: Store<T>): T;
/**
 * One part of the store's value; the component re-renders only when that part changes. `select`
 * must return the same value (===) while the part is unchanged: a field, not a new object.
 */
export function useStore<T, S>(store: Store<T>, select: (value: T) => S): S;
export function useStore<T, S>(store: Store<T>, select?: (value: T) => S): T | S {
  const snapshot: () => T | S = select ? () => select(store.get()) : store.get;
  return useSyncExternalStore<T | S>(store.subscribe, snapshot, snapshot);
}
