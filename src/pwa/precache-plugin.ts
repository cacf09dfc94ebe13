/**
 * Build-time (Node): a Vite plugin that writes the service worker (service-worker.ts) into the
 * build as `sw.js`, led by the precache manifest of every file the build wrote. It runs once the
 * app's files are on disk, so files copied from public/ are listed too.
 *
 * Every entry carries a revision (a hash of its bytes), so a file changes its cache key exactly
 * when its contents change, and sw.js changes whenever any file does: that is how the browser
 * learns of a new build. URLs are relative to sw.js, which sits at the root of the build, so
 * the same files work from any path.
 *
 * Not precached: source maps (devtools fetch them), dotfiles and dot-folders (.nojekyll,
 * Vite's .vite/), sw.js itself (the browser keeps it), and lib/, the engine library for other
 * pages (api/library-build.ts), which the app never loads.
 */
import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type Plugin, type ResolvedConfig, type Rolldown } from 'vite';
import { LIBRARY_DIR } from '../api/library-build.ts';

export interface PrecacheEntry {
  /** Relative to the build's root, `/`-separated. */
  url: string;
  revision: string;
}

export const SERVICE_WORKER_FILE = 'sw.js';
/** The global service-worker.ts reads its manifest from (Workbox's injectManifest has `self.__WB_MANIFEST`). */
const MANIFEST_GLOBAL = '__PRECACHE_MANIFEST__';

/** A hash of the bytes: the revision Workbox adds to the cache key (`?__WB_REVISION__=`). */
export function revisionOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 20);
}

/** What the service worker precaches from the build in `dir`, sorted by URL. */
export async function precacheEntries(dir: string): Promise<PrecacheEntry[]> {
  const entries: PrecacheEntry[] = [];
  for (const file of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!file.isFile()) continue;
    const url = path.relative(dir, path.join(file.parentPath, file.name)).split(path.sep).join('/');
    const hidden = url.split('/').some((part) => part.startsWith('.'));
    if (hidden || url.endsWith('.map') || url === SERVICE_WORKER_FILE || url.startsWith(`${LIBRARY_DIR}/`)) continue;
    entries.push({ url, revision: revisionOf(await readFile(path.join(dir, url))) });
  }
  return entries.sort((a, b) => (a.url < b.url ? -1 : 1));
}

/** sw.js: the manifest, then the worker's code, which reads it. */
export function serviceWorkerScript(manifest: PrecacheEntry[], code: string): string {
  return `self.${MANIFEST_GLOBAL}=${JSON.stringify(manifest)};\n${code}`;
}

interface LicenseEntry {
  name: string;
  version: string;
  identifier?: string;
  text?: string;
}

/** The plugin; `entry` is the service worker's source, relative to the project root. */
export function precacheServiceWorker(entry: string): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'precache-service-worker',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    writeBundle: {
      sequential: true,
      order: 'post',
      async handler() {
        const outDir = path.resolve(config.root, config.build.outDir);
        const worker = await bundleServiceWorker(config, entry);
        // Workbox is bundled into sw.js, outside the app's bundle: its licenses join the app's list.
        const licenses = config.build.license;
        if (licenses) await appendLicenses(path.join(outDir, licenses === true ? '.vite/license.md' : licenses.fileName), worker.licenses);
        const manifest = await precacheEntries(outDir);
        await writeFile(path.join(outDir, SERVICE_WORKER_FILE), serviceWorkerScript(manifest, worker.code));
        config.logger.info(`${SERVICE_WORKER_FILE}: precaches ${manifest.length} files`);
      },
    },
  };
}

/** A build of its own, in memory: one classic script (module service workers are not in every browser) sharing no chunk with the app. */
async function bundleServiceWorker(config: ResolvedConfig, entry: string): Promise<{ code: string; licenses: LicenseEntry[] }> {
  const licenseFile = 'licenses.json';
  const result = await build({
    configFile: false,
    root: config.root,
    logLevel: 'warn',
    publicDir: false,
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      write: false,
      sourcemap: false,
      target: config.build.target,
      license: { fileName: licenseFile },
      rolldownOptions: { input: path.resolve(config.root, entry), output: { format: 'iife' } },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const files = outputs.flatMap((output) => output.output);
  const chunks = files.filter((file) => file.type === 'chunk');
  const license = files.find((file) => file.type === 'asset' && file.fileName === licenseFile);
  if (chunks.length !== 1 || license?.type !== 'asset') throw new Error(`${entry}: expected one chunk and its licenses, got ${files.map((file) => file.fileName).join(', ')}`);
  return { code: chunks[0].code, licenses: JSON.parse(String(license.source)) as LicenseEntry[] };
}

/** Adds the packages `file` does not list yet, in the markdown Vite writes (`## name - version (license)`). */
async function appendLicenses(file: string, licenses: LicenseEntry[]): Promise<void> {
  const listed = await readFile(file, 'utf8');
  let text = '';
  for (const license of licenses) {
    const heading = `## ${license.name} - ${license.version}${license.identifier ? ` (${license.identifier})` : ''}`;
    if (listed.includes(`\n${heading}\n`)) continue;
    text += `\n${heading}\n${license.text ? `\n${license.text}\n` : ''}`;
  }
  if (text) await appendFile(file, text);
}
