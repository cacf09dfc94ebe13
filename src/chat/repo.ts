/**
 * Opens a LLaMA repo from any FileSource (local folder, hub, cache): config, tokenizer, chat
 * template, stop ids and the weight index, all read and validated before any GPU work.
 */
import { EngineError } from '../errors';
import type { FileSource, TensorRecord } from '../loader/types';
import { discoverWeights } from '../loader/weights-index';
import { parseConfig, type LlamaConfig } from '../model/config';
import { LlamaTokenizer } from '../tokenizer/llama-tokenizer';
import { tokenizerFromJson } from '../tokenizer/load-tokenizer';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { eosIds, generationDefaults, type GenerationDefaults } from './generation-config';
import { repoFormat, vicunaFormat, type PromptFormat, type TemplateTokens } from './template';

export interface RepoFiles {
  config: LlamaConfig;
  configText: string;
  tokenizer: Tokenizer;
  /** The repo's own chat template: tokenizer_config.json's, else chat_template.jinja. */
  chatTemplate?: string;
  /** Ids that end generation: the tokenizer's EOS, config.json's and generation_config.json's eos_token_id. */
  stopIds: number[];
  /** generation_config.json's sampling (a tab's defaults); empty when it sets none. */
  generationDefaults: GenerationDefaults;
  tokenizerFiles: Map<string, string | Uint8Array>;
}

export interface Repo extends RepoFiles {
  tensors: TensorRecord[];
}

type Json = Record<string, unknown>;

function parseJson(text: string, file: string): Json {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  } catch (error) {
    throw new EngineError('bad-model', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  throw new EngineError('bad-model', `${file} is not a JSON object`);
}

/** A special token in tokenizer_config.json: a string or an AddedToken object. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return undefined;
}

/** config.json, tokenizer and generation settings: everything but the weights. */
export async function readRepoFiles(source: FileSource, signal?: AbortSignal): Promise<RepoFiles> {
  const configText = await source.readText('config.json', signal);
  if (configText === null) throw new EngineError('bad-model', `${source.description} has no config.json: is this a model repo?`);
  const config = parseConfig(configText);
  const tokenizerFiles = new Map<string, string | Uint8Array>();

  const tokenizerConfigText = await source.readText('tokenizer_config.json', signal);
  const tokenizerConfig = tokenizerConfigText === null ? {} : parseJson(tokenizerConfigText, 'tokenizer_config.json');
  if (tokenizerConfigText !== null) tokenizerFiles.set('tokenizer_config.json', tokenizerConfigText);

  let tokenizer: Tokenizer;
  const modelSize = await source.size('tokenizer.model', signal);
  if (modelSize !== null) {
    if (modelSize > 64 << 20) throw new EngineError('bad-model', `tokenizer.model is ${modelSize} bytes: too large to be a sentencepiece model`);
    const bytes = await source.read('tokenizer.model', 0, modelSize, signal);
    tokenizer = LlamaTokenizer.fromSentencePiece(bytes);
    tokenizerFiles.set('tokenizer.model', bytes);
  } else {
    const json = await source.readText('tokenizer.json', signal);
    if (json === null) throw new EngineError('bad-model', `${source.description} has neither tokenizer.model nor tokenizer.json`);
    const bos = tokenizerConfig.bos_token;
    tokenizer = tokenizerFromJson(json, { bosToken: bos === null ? null : tokenContent(bos), eosToken: tokenContent(tokenizerConfig.eos_token) });
    tokenizerFiles.set('tokenizer.json', json);
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new EngineError('bad-model', `The tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize}`);
  }

  const stopIds = new Set<number>([tokenizer.eosId, ...eosIds(parseJson(configText, 'config.json'), config.vocabSize)]);
  let defaults: GenerationDefaults = {};
  const generationText = await source.readText('generation_config.json', signal);
  if (generationText !== null) {
    tokenizerFiles.set('generation_config.json', generationText);
    const generation = parseJson(generationText, 'generation_config.json');
    for (const id of eosIds(generation, config.vocabSize)) stopIds.add(id);
    defaults = generationDefaults(generation);
  }
  const chatTemplate = await readChatTemplate(source, tokenizerConfig, tokenizerFiles, signal);
  return { config, configText, tokenizer, chatTemplate, stopIds: [...stopIds], generationDefaults: defaults, tokenizerFiles };
}

/**
 * tokenizer_config.json's chat_template (a string, or a list of named templates: "default"
 * first), else the chat_template.jinja that newer transformers save beside it.
 */
async function readChatTemplate(source: FileSource, tokenizerConfig: Json, files: Map<string, string | Uint8Array>, signal?: AbortSignal): Promise<string | undefined> {
  const value = tokenizerConfig.chat_template;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.filter((entry): entry is { name: unknown; template: string } => typeof entry === 'object' && entry !== null && typeof entry.template === 'string');
    return (named.find((entry) => entry.name === 'default') ?? named[0])?.template;
  }
  const jinja = await source.readText('chat_template.jinja', signal);
  if (jinja === null) return undefined;
  files.set('chat_template.jinja', jinja);
  return jinja;
}

export async function openRepo(source: FileSource, signal?: AbortSignal): Promise<Repo> {
  const files = await readRepoFiles(source, signal);
  const { tensors } = await discoverWeights(source, signal);
  return { ...files, tensors };
}

/** The text of the tokenizer's BOS and EOS, as templates write them, and its escape for typed text. */
export function specialTokens(tokenizer: Tokenizer): TemplateTokens {
  return {
    bos: tokenizer.bosId === undefined ? '' : tokenizer.idToPiece(tokenizer.bosId),
    eos: tokenizer.idToPiece(tokenizer.eosId),
    escape: (text) => tokenizer.escapeText(text),
  };
}

/** The prompt format a repo asks for: its own chat template, else Vicuna v1.1. */
export function defaultPromptFormat(repo: RepoFiles, systemPrompt?: string): PromptFormat {
  const tokens = specialTokens(repo.tokenizer);
  return repo.chatTemplate ? repoFormat(repo.chatTemplate, tokens, systemPrompt) : vicunaFormat(tokens, systemPrompt);
}
