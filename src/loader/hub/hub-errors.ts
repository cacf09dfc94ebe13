/**
 * What the hub's answers mean, as EngineErrors with messages that say what to do. The hub names
 * the cause of a 4xx in `X-Error-Code` (huggingface_hub utils/_http.py, hf_raise_for_status:
 * RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo); a browser can read it only where
 * the hub exposes it through CORS, so every branch also works without it.
 */

import { EngineError } from '../../errors';
import { discardBody, isTransientStatus, transientStatus } from './hub-http';

export interface HubContext {
  readonly repo: string;
  readonly revision: string;
  readonly endpoint: string;
  readonly description: string;
  readonly hasToken: boolean;
}

export function hubDetail(hub: HubContext, file: string, status?: number): Record<string, string | number> {
  return { repo: hub.repo, revision: hub.revision, file, ...(status === undefined ? {} : { status }) };
}

export function integrityError(hub: HubContext, file: string, why: string, offset?: number, length?: number): EngineError {
  const range = offset === undefined || length === undefined ? '' : ` (bytes [${offset}, ${offset + length}) asked for)`;
  return new EngineError('integrity-failed', `${file} in ${hub.description}: ${why}${range}`, hubDetail(hub, file));
}

/** A 404 for a file of an existing repo and revision (or one whose error code CORS hides). */
export function isMissingEntry(response: Response): boolean {
  const code = response.headers.get('X-Error-Code');
  return code !== 'RepoNotFound' && code !== 'RevisionNotFound';
}

/** Throws the EngineError, or the TransientFailure worth retrying, for a response that is not 2xx. */
export function throwForStatus(hub: HubContext, response: Response, file: string, offset?: number, length?: number): void {
  if (response.ok) return;
  discardBody(response);
  const { status } = response;
  const code = response.headers.get('X-Error-Code');
  if (status === 401 || status === 403) {
    // The hub also answers 401 for a repo that does not exist, so as not to reveal private ones.
    const refused = hub.hasToken ? 'refused the access token' : 'needs an access token';
    throw new EngineError(
      'unauthorized',
      `${hub.endpoint} ${refused} for ${hub.repo} (HTTP ${status}${code ? `, ${code}` : ''}): the repo may be gated or private, ` +
        'or may not exist. Add a Hugging Face access token in settings (HF_TOKEN in Node), and accept the ' +
        "model's terms on its page if it is gated.",
      hubDetail(hub, file, status),
    );
  }
  if (status === 404) {
    const message =
      code === 'RepoNotFound' ? `repo ${hub.repo} does not exist on ${hub.endpoint}`
      : code === 'RevisionNotFound' ? `revision ${hub.revision} does not exist in ${hub.repo}`
      : `${file} is not in ${hub.repo} at revision ${hub.revision}`;
    throw new EngineError('not-found', message, hubDetail(hub, file, status));
  }
  if (status === 416) {
    const size = response.headers.get('Content-Range') ?? 'no size given';
    throw integrityError(hub, file, `the hub refused the range as past the end of the file (HTTP 416, ${size})`, offset, length);
  }
  if (isTransientStatus(status)) throw transientStatus(response);
  throw new EngineError(
    'download-failed',
    `${hub.description} answered HTTP ${status} ${response.statusText} for ${file}`.trim(),
    hubDetail(hub, file, status),
  );
}
