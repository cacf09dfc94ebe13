/**
 * The app shell's service worker (pwa/service-worker.ts) seen from the page: registers it, says
 * whether the app opens without the network, and when a new build has installed beside the
 * running one, switches to it on the user's word. Production builds only: the dev server's
 * modules change on every edit, and a cached copy of them would get in the way.
 */
import { Workbox } from 'workbox-window';
import { Store } from '../common/store';

export interface ShellState {
  /** 'ready': the shell is cached and the page opens offline. 'off': not registered (development). */
  offline: 'off' | 'unsupported' | 'installing' | 'ready' | 'failed';
  /** A new build is installed and waits for the user's go (apply()). */
  updateReady: boolean;
  /** Why the service worker could not be registered. */
  error?: string;
}

/** Long-lived tabs look for a new build this often; the browser also looks on every page load. */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

export class AppShell {
  readonly state = new Store<ShellState>({ offline: 'off', updateReady: false });
  private workbox: Workbox | undefined;
  private applying = false;
  private reloading = false;

  /** Registers `scriptUrl` (sw.js beside index.html) with its default scope, the app's folder. */
  start(scriptUrl: string): void {
    if (!('serviceWorker' in navigator)) {
      this.patch({ offline: 'unsupported' });
      return;
    }
    const workbox = new Workbox(scriptUrl);
    this.workbox = workbox;
    this.patch({ offline: 'installing' });
    // A new build installed beside the running one (or was already waiting when this page opened).
    workbox.addEventListener('waiting', () => this.patch({ updateReady: true }));
    workbox.addEventListener('activated', (event) => {
      if (!event.isUpdate) this.patch({ offline: 'ready' }); // the first install
      if (this.applying) this.reload(); // this page had no controller to change (its first visit)
    });
    // The first install failed (the network went away mid-way): the next visit tries again.
    workbox.addEventListener('redundant', (event) => {
      if (!event.isUpdate && this.state.get().offline === 'installing') this.patch({ offline: 'failed', error: 'the app could not be cached; the next visit tries again' });
    });
    // The new build took over (this tab's click or another tab's): reload onto it, so no page
    // runs old code that would ask for files the new cache no longer holds.
    workbox.addEventListener('controlling', (event) => {
      if (event.isUpdate) this.reload();
    });
    workbox.register().then(
      (registration) => {
        if (registration?.active) this.patch({ offline: 'ready' });
        // A new build the browser found before this page registered (it looks on every page
        // load) may be installing already; Workbox's events cover only the ones found later.
        const installing = registration?.installing;
        installing?.addEventListener('statechange', () => {
          if (installing.state === 'installed' && registration?.active) this.patch({ updateReady: true });
        });
        setInterval(() => {
          // Offline, the check fails; the next one (or the next page load) tries again.
          workbox.update().catch(() => undefined);
        }, UPDATE_CHECK_MS);
      },
      (error: unknown) => this.patch({ offline: 'failed', error: error instanceof Error ? error.message : String(error) }),
    );
  }

  /** Activates the waiting build; every open page of the app reloads onto it. */
  apply(): void {
    this.applying = true;
    this.workbox?.messageSkipWaiting();
  }

  /** Hides the prompt until the next new build (the waiting one takes over once every tab is closed). */
  dismiss(): void {
    this.patch({ updateReady: false });
  }

  private reload(): void {
    if (this.reloading) return;
    this.reloading = true;
    location.reload();
  }

  private patch(change: Partial<ShellState>): void {
    this.state.set((current) => ({ ...current, ...change }));
  }
}

/** One per page, started by main.tsx in production builds. */
export const appShell = new AppShell();
