/**
 * Persistent storage: without it the browser may evict the multi-gigabyte model cache under
 * storage pressure. Asked for once, when the first model load starts (Chrome decides silently
 * from site engagement; Firefox asks the user).
 */
let asked: Promise<boolean> | undefined;

export function requestPersistence(): Promise<boolean> {
  asked ??= (async () => {
    if (!navigator.storage?.persist) return false;
    if (await navigator.storage.persisted()) return true;
    return navigator.storage.persist();
  })().catch(() => false);
  return asked;
}

export async function isPersisted(): Promise<boolean> {
  return (await navigator.storage?.persisted?.().catch(() => false)) ?? false;
}
