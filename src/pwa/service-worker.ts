/**
 * The service worker: keeps the app shell (every file of the build but source maps) in Cache
 * Storage, so that the page opens with no network once it has been visited. Built into
 * `dist/sw.js` by precache-plugin.ts, which sets `self.__PRECACHE_MANIFEST__` ahead of this code.
 *
 * It answers only the precached URLs. Every other request (the hub, its CDN, anything else)
 * is left alone: no respondWith, so the browser fetches it as if there were no service worker
 * and nothing of it lands in Cache Storage. Model weights live in OPFS; a copy here would
 * double 4 GB.
 *
 * A new build is a new sw.js (its manifest holds every file's revision): it installs beside the
 * old one, precaching the new files under new keys, and waits. The page says an update is
 * ready (ui/shell/app-shell.ts); the user's click posts SKIP_WAITING, this worker activates, Workbox
 * deletes the old build's entries, and every open page reloads onto the new shell. Until then
 * the old worker serves the old build whole: never a mix of the two.
 */
/// <reference lib="webworker" />
import { cleanupOutdatedCaches, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';

declare const self: ServiceWorkerGlobalScope & { __PRECACHE_MANIFEST__: PrecacheEntry[] };

// The app reads its state from the query (?hub=&model=), which the static files never depend
// on: `/kv/?model=x` is `/kv/index.html`.
precacheAndRoute(self.__PRECACHE_MANIFEST__, { ignoreURLParametersMatching: [/.*/] });
cleanupOutdatedCaches();

self.addEventListener('message', (event) => {
  // workbox-window's messageSkipWaiting() sends exactly this.
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
