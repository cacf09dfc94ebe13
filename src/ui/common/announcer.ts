/**
 * The app's one polite live region (LiveAnnouncer, rendered by the shell): what a screen reader
 * should say without the user moving there, such as a streaming answer's sentences. Each
 * announcement is appended as its own node, so a reader speaks the new text only; old ones are
 * dropped, which readers do not announce.
 */
import { Store } from './store';

export interface Announcement {
  id: number;
  text: string;
}

/** Enough for a reader that lags a few sentences behind; the region never grows with the answer. */
const KEPT = 8;

let nextId = 1;
export const announcements = new Store<Announcement[]>([]);

export function announce(text: string): void {
  const trimmed = text.trim();
  if (trimmed === '') return;
  announcements.set((list) => [...list.slice(-(KEPT - 1)), { id: nextId++, text: trimmed }]);
}
