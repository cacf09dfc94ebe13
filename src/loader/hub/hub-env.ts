/**
 * Node only (the CLI and tests): a HubSource configured from the environment the way
 * huggingface_hub reads it, `HF_ENDPOINT` for a mirror and `HF_TOKEN` for gated or private repos.
 * Kept apart from hub-source.ts so that the browser bundle never touches `process`.
 */

import { HubSource, type HubSourceOptions } from './hub-source';

/** Explicit options win over the environment; an empty variable counts as unset. */
export function hubSourceFromEnvironment(
  repo: string,
  options: Omit<HubSourceOptions, 'repo'> = {},
  env: Record<string, string | undefined> = process.env,
): HubSource {
  return new HubSource({
    ...options,
    repo,
    endpoint: options.endpoint ?? (env.HF_ENDPOINT || undefined),
    token: options.token ?? (env.HF_TOKEN || undefined),
  });
}
