/**
 * A Hugging Face `tokenizer.json` for LLaMA, turned into the same SentencePieceModel that
 * `tokenizer.model` gives, so one BPE implementation serves both.
 *
 * tokenizer.json has merges where sentencepiece has scores. A piece's score here is minus the
 * rank of the first merge that produces it: transformers' converter lists merges in sentencepiece
 * score order, so a higher-ranked piece had the higher score. Only pieces with equal sentencepiece
 * scores (LLaMA's whitespace runs, all at -1e9) lose their tie, which sentencepiece breaks by
 * position and tokenizer.json by vocabulary order.
 */
import { EngineError } from '../errors';
import { byteOfPiece, validateModel, type NormalizerSettings, type SentencePiece, type SentencePieceModel } from './sentencepiece-model';

export interface TokenizerJsonOptions {
  /** From tokenizer_config.json's bos_token; otherwise the post-processor's first special token, else "<s>". */
  bosToken?: string;
  /** From tokenizer_config.json's eos_token; otherwise "</s>". */
  eosToken?: string;
}

const SPACE_SYMBOL = '\u2581';

function badModel(message: string): EngineError {
  return new EngineError('bad-model', `tokenizer.json: ${message}`);
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses and validates a LLaMA tokenizer.json. Throws EngineError('bad-model'). */
export function parseTokenizerJson(text: string, options: TokenizerJsonOptions = {}): SentencePieceModel {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw new EngineError('bad-model', `tokenizer.json is not valid JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  return parseTokenizerJsonObject(root, options);
}

/** parseTokenizerJson for an already parsed file. */
export function parseTokenizerJsonObject(root: unknown, options: TokenizerJsonOptions = {}): SentencePieceModel {
  if (!isObject(root) || !isObject(root.model)) throw badModel('it has no "model" object.');
  const model = root.model;
  if (model.type !== 'BPE') {
    throw badModel(`model type is ${JSON.stringify(model.type)}; only LLaMA's sentencepiece-style "BPE" is supported.`);
  }
  const byteFallback = model.byte_fallback === true;
  const pieces = readVocabulary(model.vocab, byteFallback);
  scoreByMerges(pieces, model.merges);
  addTokens(pieces, root.added_tokens);

  const idOf = new Map(pieces.map(({ piece }, id) => [piece, id]));
  const idOfToken = (token: unknown, role: string): number => {
    const id = typeof token === 'string' ? idOf.get(token) : undefined;
    if (id === undefined) throw badModel(`the ${role} token ${JSON.stringify(token)} is not in the vocabulary.`);
    return id;
  };
  const unkId = idOfToken(model.unk_token, 'unknown');
  pieces[unkId].type = 'unknown';
  const bosId = idOfToken(options.bosToken ?? firstTemplateToken(root.post_processor) ?? '<s>', 'BOS');
  const eosId = idOfToken(options.eosToken ?? '</s>', 'EOS');
  // BOS and EOS are control pieces even where added_tokens forgot to flag them special.
  for (const id of [bosId, eosId]) if (pieces[id].type === 'normal') pieces[id].type = 'control';

  return validateModel(
    { pieces, byteFallback, unkId, bosId, eosId, padId: -1, unkSurface: ' \u2047 ', normalizer: readNormalizer(root) },
    badModel,
  );
}

function readVocabulary(vocabulary: unknown, byteFallback: boolean): SentencePiece[] {
  if (!isObject(vocabulary)) throw badModel('model.vocab is not an object of piece -> id.');
  const pieces: SentencePiece[] = [];
  for (const [piece, id] of Object.entries(vocabulary)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw badModel(`vocabulary id ${JSON.stringify(id)} of ${JSON.stringify(piece)} is not an index.`);
    if (pieces[id as number]) throw badModel(`vocabulary id ${id} is used twice.`);
    const type = byteFallback && byteOfPiece(piece) >= 0 ? 'byte' : 'normal';
    // No merge produces a piece until scoreByMerges says otherwise.
    pieces[id as number] = { piece, score: -Infinity, type };
  }
  for (let id = 0; id < pieces.length; id++) if (!pieces[id]) throw badModel(`vocabulary id ${id} is missing.`);
  return pieces;
}

function scoreByMerges(pieces: SentencePiece[], merges: unknown): void {
  if (!Array.isArray(merges)) throw badModel('model.merges is not a list.');
  const idOf = new Map(pieces.map(({ piece }, id) => [piece, id]));
  merges.forEach((merge: unknown, rank) => {
    // Older files write "a b"; newer ones [a, b] (pieces never hold a space: it is "▁").
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((half) => typeof half === 'string' && idOf.has(half))) {
      throw badModel(`merge ${rank} (${JSON.stringify(merge)}) is not a pair of vocabulary pieces.`);
    }
    const result = idOf.get(pair[0] + pair[1]);
    if (result === undefined) throw badModel(`merge ${rank} (${JSON.stringify(merge)}) makes a piece that is not in the vocabulary.`);
    if (pieces[result].score === -Infinity) pieces[result].score = -rank;
  });
}

/** Special added tokens are CONTROL pieces; other added tokens are matched whole, like sentencepiece's user-defined pieces. */
function addTokens(pieces: SentencePiece[], addedTokens: unknown): void {
  if (addedTokens === undefined || addedTokens === null) return;
  if (!Array.isArray(addedTokens)) throw badModel('added_tokens is not a list.');
  const sorted = [...addedTokens].sort((a, b) => (isObject(a) && isObject(b) ? Number(a.id) - Number(b.id) : 0));
  for (const token of sorted) {
    if (!isObject(token) || !Number.isInteger(token.id) || typeof token.content !== 'string' || token.content === '') {
      throw badModel(`added token ${JSON.stringify(token)} has no integer id and non-empty content.`);
    }
    const id = token.id as number;
    const type = token.special === true ? 'control' : 'user-defined';
    if (id < pieces.length) {
      if (pieces[id].piece !== token.content) {
        throw badModel(`added token ${id} is ${JSON.stringify(token.content)} but the vocabulary has ${JSON.stringify(pieces[id].piece)}.`);
      }
      if (pieces[id].type === 'normal') pieces[id].type = type;
    } else if (id === pieces.length) {
      pieces.push({ piece: token.content, score: 0, type });
    } else {
      throw badModel(`added token id ${id} leaves a gap after the ${pieces.length} pieces.`);
    }
  }
}

/** The special token a TemplateProcessing post-processor puts before $A: the BOS. */
function firstTemplateToken(postProcessor: unknown): string | undefined {
  if (!isObject(postProcessor) || postProcessor.type !== 'TemplateProcessing' || !Array.isArray(postProcessor.single)) return undefined;
  const first: unknown = postProcessor.single[0];
  return isObject(first) && isObject(first.SpecialToken) && typeof first.SpecialToken.id === 'string' ? first.SpecialToken.id : undefined;
}

/**
 * Two spellings of sentencepiece's LLaMA normalization are accepted: the normalizer
 * Sequence[Prepend("▁"), Replace(" ", "▁")], and the Metaspace pre-tokenizer with split=false.
 * Anything else (NFKC, lower-casing, word splitting) would tokenize differently, so it is refused.
 */
function readNormalizer(root: Json): NormalizerSettings {
  const settings = { name: 'identity', addDummyPrefix: false, removeExtraWhitespaces: false, escapeWhitespaces: true };
  const unsupported = (what: string, value: unknown) =>
    badModel(`${what} ${JSON.stringify(value)?.slice(0, 200)} is not LLaMA's; only Prepend("▁") + Replace(" ", "▁") or Metaspace (split false) are supported.`);
  const { normalizer, pre_tokenizer: preTokenizer } = root;
  if (normalizer !== null && normalizer !== undefined) {
    if (preTokenizer !== null && preTokenizer !== undefined) throw unsupported('pre_tokenizer', preTokenizer);
    const steps = isObject(normalizer) && normalizer.type === 'Sequence' ? normalizer.normalizers : [normalizer];
    if (!Array.isArray(steps)) throw unsupported('normalizer', normalizer);
    let replacesSpaces = false;
    for (const step of steps) {
      if (isObject(step) && step.type === 'Prepend' && step.prepend === SPACE_SYMBOL) settings.addDummyPrefix = true;
      else if (isObject(step) && step.type === 'Replace' && isObject(step.pattern) && step.pattern.String === ' ' && step.content === SPACE_SYMBOL) {
        replacesSpaces = true;
      } else throw unsupported('normalizer', step);
    }
    if (!replacesSpaces) throw unsupported('normalizer', normalizer);
    return settings;
  }
  if (
    isObject(preTokenizer) &&
    preTokenizer.type === 'Metaspace' &&
    preTokenizer.replacement === SPACE_SYMBOL &&
    preTokenizer.split === false
  ) {
    // prepend_scheme "first" (no prefix after special tokens) is transformers' legacy=false;
    // encodeChat follows legacy=true on purpose, and plain encode has a single first section.
    settings.addDummyPrefix = preTokenizer.prepend_scheme !== 'never' && preTokenizer.add_prefix_space !== false;
    return settings;
  }
  throw unsupported('pre_tokenizer', preTokenizer ?? null);
}
