/** Opening `--model` on this machine's GPU for the CLI commands, with progress on stderr. */
import { describeLoadCost, estimateLoadCost } from '../chat/load-cost';
import type { ChatEngine } from '../chat/engine';
import { openEngine, type OpenedEngine, type OpenProgress } from '../chat/open-engine';
import { toErrorData } from '../errors';
import { cacheEntryId } from '../loader/cache/cache-store';
import { HubSource } from '../loader/hub/hub-source';
import { requestNodeAdapter } from '../gpu/node-gpu';
import { createGpu, type Gpu } from '../gpu/runtime';
import type { LoadOptions } from '../model/llama';
import { mib } from '../model/memory-plan';
import { tensorFormats } from '../model/weights';
import type { Flags } from './args';
import { openModelLocation, type ModelLocation } from './model-source';

let gpu: Promise<Gpu> | undefined;

/** The process's one GPU device (eval loads several models on it, one after the other). */
function openGpu(): Promise<Gpu> {
  gpu ??= (async () => {
    const opened = await createGpu(await requestNodeAdapter(), 'cli');
    const { adapter } = opened.context;
    process.stderr.write(`GPU: ${adapter.description}${adapter.isFallback ? ' (software: slow)' : ''}\n`);
    return opened;
  })();
  return gpu;
}

const PHASE_LABEL = { connect: 'connecting', download: 'downloading and converting', 'cache-read': 'loading from cache', 'cache-write': 'writing cache', compile: 'compiling GPU kernels' };

/**
 * Progress on stderr: one line redrawn on a terminal; elsewhere nothing, or with `lines` a line
 * per tenth of each phase (a log of `serve` shows how far the start-up got).
 */
function progressPrinter(repo: string, lines: boolean): (p: OpenProgress) => void {
  let last = '';
  let resumeSaid = false;
  let damageSaid = false;
  const tenths = new Map<string, number>();
  return ({ phase, doneBytes, totalBytes, resumedBytes, cacheDamaged }) => {
    // Said once, before the download: on a metered connection a refetch is news.
    if (cacheDamaged !== undefined && !damageSaid) {
      damageSaid = true;
      process.stderr.write(`warning: the cached copy of ${repo} was damaged (${cacheDamaged}): it was removed and the model is being downloaded again\n`);
    }
    // Said once whatever stderr is: a log shows that this run continued an interrupted one.
    if (resumedBytes !== undefined && !resumeSaid) {
      resumeSaid = true;
      process.stderr.write(`resuming at ${Math.floor((100 * resumedBytes) / totalBytes)}%: ${mib(resumedBytes)} of ${mib(totalBytes)} were converted and cached by an earlier run\n`);
    }
    if (!process.stderr.isTTY) {
      if (!lines) return;
      const tenth = totalBytes === 0 ? 10 : Math.floor((10 * doneBytes) / totalBytes);
      if (tenths.get(phase) === tenth || (phase !== 'compile' && totalBytes === 0)) return;
      tenths.set(phase, tenth);
      process.stderr.write(phase === 'compile' ? `${PHASE_LABEL[phase]}\n` : `${PHASE_LABEL[phase]} ${tenth * 10}% of ${mib(totalBytes)}\n`);
      return;
    }
    if (phase === 'compile') process.stderr.write(`${PHASE_LABEL[phase]}\n`);
    if (totalBytes === 0) return;
    const line = `${PHASE_LABEL[phase]} ${Math.floor((100 * doneBytes) / totalBytes)}% of ${mib(totalBytes)}`;
    if (line !== last) process.stderr.write(`\r${line}\x1b[K${doneBytes === totalBytes ? '\n' : ''}`);
    last = line;
  };
}

/** `12 q4, 4 f16 (4 of 16 tensors not q4)`: the model's checkpoint matrices by storage format. */
function describeFormats(counts: Partial<Record<string, number>>): string {
  const entries = Object.entries(counts) as [string, number][];
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  const list = entries.map(([format, count]) => `${count} ${format}`).join(', ');
  return counts.q4 === undefined ? list : `${list} (${total - counts.q4} of ${total} tensors not q4)`;
}

/**
 * Before a download: the cost line (what the download, the disk and the GPU will take, whether
 * the cache folder has room, the license). Nothing when the model is cached already or comes
 * from a folder; a hub that cannot say is reported and the load goes on.
 */
async function printCost(location: ModelLocation, options: Omit<LoadOptions, 'onProgress'>): Promise<void> {
  const { source, cache } = location;
  if (!(source instanceof HubSource) || !cache) return;
  const key = { repo: location.repo, revision: location.revision, dtype: options.dtype };
  if ((await cache.list()).some((entry) => entry.id === cacheEntryId(key))) return;
  try {
    const quick = new HubSource({ ...source.options, retries: 0 });
    const cost = await estimateLoadCost(quick, { dtype: options.dtype, contextLength: options.contextLength ?? 2048, cache, signal: options.signal });
    process.stderr.write(`cost: ${describeLoadCost(cost, mib)}\n`);
    if (cost.storage && !cost.storage.fits) process.stderr.write('warning: the cache folder lacks the room: the model will run but not be cached (choose another --cache-dir or free space)\n');
  } catch (error) {
    process.stderr.write(`cost: unknown (${toErrorData(error).message})\n`);
  }
}

/** `byte-level BPE, 128256 tokens, 0.81 tokens per Hangul syllable, chat template: the repo's`. */
function describeTokenizer(engine: ChatEngine): string {
  const { tokenizer, chatTemplate } = engine.repo;
  const kind = tokenizer.kind === 'byte-level' ? 'byte-level BPE' : 'sentencepiece BPE';
  return `${kind}, ${tokenizer.vocabSize} tokens, ${engine.tokensPerSyllable.toFixed(2)} tokens per Hangul syllable, chat template: ${chatTemplate ? "the repo's" : 'none (Vicuna v1.1)'}`;
}

/** Opens --model (folder or hub, through the cache) on the GPU. */
export async function loadModel(
  flags: Flags,
  options: Omit<LoadOptions, 'onProgress'>,
  output: { progressLines?: boolean } = {},
): Promise<OpenedEngine & { fromFolder: boolean; close(): Promise<void> }> {
  const location = await openModelLocation(flags);
  try {
    await printCost(location, options);
    const opened = await openEngine(await openGpu(), location.source, {
      ...options,
      repo: location.repo,
      revision: location.revision,
      cache: location.cache,
      onProgress: progressPrinter(location.repo, output.progressLines === true),
    });
    process.stderr.write(opened.fromCache ? `loaded from cache${opened.offline ? ' (offline: using the cached copy)' : ''}\n` : '');
    if (opened.cacheDamaged) process.stderr.write(`downloaded again: the cached copy was damaged (${opened.cacheDamaged})\n`);
    process.stderr.write(`weights: ${describeFormats(tensorFormats(opened.engine.model.layout))}\n`);
    process.stderr.write(`tokenizer: ${describeTokenizer(opened.engine)}\n`);
    if (opened.cacheError) process.stderr.write(`warning: not cached [${opened.cacheError.code}]: ${opened.cacheError.message}\n`);
    return { ...opened, fromFolder: location.folder, close: location.close };
  } catch (error) {
    await location.close();
    throw error;
  }
}
