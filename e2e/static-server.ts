/**
 * A plain static file server for the built app, on 127.0.0.1 with an ephemeral port (a secure
 * context for WebGPU), as any static host serves a folder: no special headers, a folder's URL
 * without its slash redirects to it with the slash, a folder answers with its index.html, and
 * anything that is not a file is a 404: nothing is rewritten to index.html, which would hide
 * a missing asset behind a page of HTML.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  /** The origin, without a trailing slash. */
  url: string;
  /** Serves `root` under `prefix` (`/` or `/kv/`), replacing what was there, as a new deploy does. */
  mount(prefix: string, root: string): Promise<void>;
  close(): Promise<void>;
}

async function checkBuilt(root: string): Promise<void> {
  await stat(path.join(root, 'index.html')).catch(() => {
    throw new Error(`${root}/index.html is missing: run \`npx vite build\` first`);
  });
}

/** Serves the build in `root` under `prefix` (default the site's root). */
export async function serveStatic(root: string, prefix = '/'): Promise<StaticServer> {
  const mounts = new Map<string, string>();
  const mount = async (at: string, folder: string) => {
    if (!at.startsWith('/') || !at.endsWith('/')) throw new Error(`mount prefix ${at} must start and end with /`);
    await checkBuilt(folder);
    mounts.set(at, path.resolve(folder));
  };
  await mount(prefix, root);

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site');
    const pathname = decodeURIComponent(url.pathname);
    const notFound = () => response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    if (mounts.has(`${pathname}/`)) {
      response.writeHead(301, { Location: `${pathname}/${url.search}` }).end();
      return;
    }
    // The longest prefix that holds the path.
    const at = [...mounts.keys()].filter((candidate) => pathname.startsWith(candidate)).sort((a, b) => b.length - a.length)[0];
    if (at === undefined) return notFound();
    const folder = mounts.get(at)!;
    const relative = pathname.slice(at.length);
    const file = path.join(folder, path.normalize(relative === '' || relative.endsWith('/') ? `${relative}index.html` : relative));
    if (!file.startsWith(folder + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    readFile(file).then((bytes) => {
      response.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      response.end(bytes);
    }, notFound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    mount,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
