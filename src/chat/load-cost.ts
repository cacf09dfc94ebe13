/**
 * What Load will take, known before anything big is fetched: the bytes to download (the hub's
 * file tree sizes, else the shard index's total_size), the disk the cache keeps at the chosen
 * dtype, the GPU memory (weights plus the KV cache at the chosen context, from the memory plan),
 * whether the cache has room, and the model's license as its card states it. A few small
 * requests: config.json, the tree and the model info (huggingface_hub's list_repo_tree and
 * model_info), and the shard index when there is one. The worker shows it in the model's tab; the CLI prints it before loading.
 */
import { EngineError } from '../errors';
import { cacheEntryId, withHeadroom, type CacheKey, type CacheStore } from '../loader/cache/cache-store';
import type { HubSource } from '../loader/hub/hub-source';
import { indexShards, WEIGHT_FILES } from '../loader/weights-index';
import { parseConfig } from '../model/config';
import { layoutBytes, planMemory } from '../model/memory-plan';
import { kvFormatFor, weightLayout, type ModelDtype } from '../model/weights';
import { SCORE_ROWS } from './engine';

export interface LoadCost {
  repo: string;
  dtype: ModelDtype;
  contextLength: number;
  /** Bytes the download fetches: the weight files and the small files beside them. */
  downloadBytes: number;
  /** Where that figure comes from: the hub's file tree, or the shard index (tensor bytes only). */
  sizeFrom: 'tree' | 'index' | 'file';
  /** Disk the cache keeps: the converted weights and the small files. */
  diskBytes: number;
  gpu: { totalBytes: number; weightBytes: number; kvCacheBytes: number };
  /** A complete current copy is cached: Load downloads nothing. */
  cached: boolean;
  /** An unfinished earlier download of this model and dtype: bytes of `diskBytes` it holds. */
  partialBytes?: number;
  /**
   * Free space for the cache, where the platform says, and the space this load needs there.
   * `refused`: the platform refused a cache write since (its figure was wrong then), so `fits`
   * promises nothing that needs writing.
   */
  storage?: { availableBytes: number; neededBytes: number; fits: boolean; refused?: true };
  /** The model card's license (cardData.license, else a `license:` tag), and the card's address. */
  license?: string;
  cardUrl: string;
}

export interface CostOptions {
  dtype: ModelDtype;
  contextLength: number;
  cache?: CacheStore;
  signal?: AbortSignal;
}

type Json = Record<string, unknown>;

const SMALL_FILES = ['config.json', 'tokenizer.model', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'chat_template.jinja'];

export async function estimateLoadCost(source: HubSource, options: CostOptions): Promise<LoadCost> {
  const { signal } = options;
  const [configText, tree, info] = await Promise.all([
    source.readText('config.json', signal),
    source.apiJson(`/tree/${encodeURIComponent(source.revision)}`, signal).catch(() => null),
    source.apiJson(source.revision === 'main' ? '' : `/revision/${encodeURIComponent(source.revision)}`, signal).catch(() => null),
  ]);
  if (configText === null) throw new EngineError('bad-model', `${source.description} has no config.json: is this a model repo?`);
  const config = parseConfig(configText);
  const download = (await sizesFromTree(source, tree, signal)) ?? (await sizesFromIndex(source, signal));
  const contextLength = Math.min(options.contextLength, config.maxPositions);
  const layout = weightLayout(config, options.dtype, !config.tieWordEmbeddings);
  // As the chat engine loads it: its rows of logits for scoring are 39 MB at Qwen's 152k vocabulary.
  const plan = planMemory(config, layout, { contextLength, maxChunk: 256, logitsRows: SCORE_ROWS, kvFormat: kvFormatFor(options.dtype) });
  const diskBytes = layoutBytes(layout) + download.smallBytes;
  const key: CacheKey = { repo: source.repo, revision: source.revision, dtype: options.dtype };
  const cost: LoadCost = {
    repo: source.repo,
    dtype: options.dtype,
    contextLength,
    downloadBytes: download.weightBytes + download.smallBytes,
    sizeFrom: download.from,
    diskBytes,
    gpu: { totalBytes: plan.totalBytes, weightBytes: plan.weightBytes, kvCacheBytes: plan.kvCacheBytes },
    cached: false,
    cardUrl: `${source.endpoint}/${source.repo}`,
    ...licenseOf(info),
  };
  if (options.cache) Object.assign(cost, await cacheState(options.cache, key, diskBytes));
  return cost;
}

/** One line for the CLI (and logs): everything the tab shows. */
export function describeLoadCost(cost: LoadCost, format: (bytes: number) => string): string {
  const parts = [
    cost.cached ? 'cached: no download' : `download ${format(cost.downloadBytes)}${cost.partialBytes ? ` (an earlier download is ${Math.floor((100 * cost.partialBytes) / cost.diskBytes)}% done and continues)` : ''}`,
    `disk ${format(cost.diskBytes)} at ${cost.dtype}`,
    `GPU ${format(cost.gpu.totalBytes)} (weights ${format(cost.gpu.weightBytes)} + KV cache ${format(cost.gpu.kvCacheBytes)} at ${cost.contextLength} tokens)`,
  ];
  if (cost.storage && contradicted(cost.storage)) parts.push('the cache refused a write although it reported room, so its free space is unknown: the model may run uncached');
  else if (cost.storage) parts.push(cost.storage.fits ? `free ${format(cost.storage.availableBytes)}: fits` : `NOT ENOUGH SPACE: needs ${format(cost.storage.neededBytes)}, ${format(cost.storage.availableBytes)} free`);
  parts.push(`license ${cost.license ?? 'not stated'} (${cost.cardUrl})`);
  return parts.join('; ');
}

/** The platform refused a write although its free-space figure shows room: the figure means nothing now. */
export function contradicted(storage: NonNullable<LoadCost['storage']>): boolean {
  return storage.refused === true && storage.neededBytes > 0 && storage.neededBytes <= storage.availableBytes;
}

interface DownloadSizes {
  weightBytes: number;
  smallBytes: number;
  from: LoadCost['sizeFrom'];
}

/**
 * Sizes of the weight files the loader will read, from `/api/models/{repo}/tree/{revision}`:
 * the files the first index present names (one more small request), else the single file, in
 * the loader's order of preference (weights-index.ts).
 */
async function sizesFromTree(source: HubSource, tree: unknown, signal?: AbortSignal): Promise<DownloadSizes | null> {
  if (!Array.isArray(tree)) return null;
  const sizes = new Map<string, number>();
  for (const entry of tree as Json[]) {
    const size = typeof (entry?.lfs as Json | undefined)?.size === 'number' ? ((entry.lfs as Json).size as number) : entry?.size;
    if (entry?.type === 'file' && typeof entry.path === 'string' && typeof size === 'number') sizes.set(entry.path, size);
  }
  const small = SMALL_FILES.reduce((sum, file) => sum + (sizes.get(file) ?? 0), 0);
  for (const { index, single } of WEIGHT_FILES) {
    if (sizes.has(index)) {
      const text = await source.readText(index, signal);
      const shards = text === null ? [] : indexShards(index, text);
      if (shards.length > 0 && shards.every((shard) => sizes.has(shard))) {
        // The index is fetched with the shards, and not kept: it counts as download only.
        return { weightBytes: shards.reduce((sum, shard) => sum + sizes.get(shard)!, sizes.get(index)!), smallBytes: small, from: 'tree' };
      }
    }
    if (sizes.has(single)) return { weightBytes: sizes.get(single)!, smallBytes: small, from: 'tree' };
  }
  return null;
}

/** Without a tree (a mirror without the API): the shard index's total_size, else the single file's size. */
async function sizesFromIndex(source: HubSource, signal?: AbortSignal): Promise<DownloadSizes> {
  const smallBytes = (await Promise.all(SMALL_FILES.map((file) => source.size(file, signal)))).reduce<number>((sum, size) => sum + (size ?? 0), 0);
  for (const { index, single } of WEIGHT_FILES) {
    const text = await source.readText(index, signal);
    const total = text === null ? undefined : (parseIndex(text)?.metadata as Json | undefined)?.total_size;
    if (typeof total === 'number') return { weightBytes: total, smallBytes, from: 'index' };
    const size = await source.size(single, signal);
    if (size !== null) return { weightBytes: size, smallBytes, from: 'file' };
  }
  return { weightBytes: 0, smallBytes, from: 'file' };
}

function parseIndex(text: string): Json | null {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

/** The card's license: cardData.license (a string, or a list), else the `license:` tag; `other` says its name where the card gives one. */
function licenseOf(info: unknown): { license?: string } {
  const card = ((info as Json | null)?.cardData ?? {}) as Json;
  const stated = Array.isArray(card.license) ? card.license.filter((l) => typeof l === 'string').join(', ') : card.license;
  const tags = (info as Json | null)?.tags;
  const tag = Array.isArray(tags) ? (tags.find((t) => typeof t === 'string' && t.startsWith('license:')) as string | undefined)?.slice(8) : undefined;
  const license = typeof stated === 'string' && stated !== '' ? stated : tag;
  if (!license) return {};
  return { license: license === 'other' && typeof card.license_name === 'string' ? `other (${card.license_name})` : license };
}

async function cacheState(cache: CacheStore, key: CacheKey, diskBytes: number): Promise<Pick<LoadCost, 'cached' | 'partialBytes' | 'storage'>> {
  const id = cacheEntryId(key);
  const [entries, partials, availableBytes] = await Promise.all([cache.list(), cache.partials(), cache.availableBytes()]);
  const cached = entries.some((entry) => entry.id === id);
  const partialBytes = Math.max(0, ...partials.filter((p) => cacheEntryId(p.key) === id).map((p) => p.bytes));
  const neededBytes = cached ? 0 : withHeadroom(diskBytes - partialBytes);
  const refused = cache.writeRefused();
  const fits = neededBytes <= availableBytes! && (neededBytes === 0 || !refused);
  return {
    cached,
    ...(partialBytes > 0 ? { partialBytes } : {}),
    ...(availableBytes === undefined ? {} : { storage: { availableBytes, neededBytes, fits, ...(refused ? { refused: true as const } : {}) } }),
  };
}
