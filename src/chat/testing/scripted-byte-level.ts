/**
 * Test support (unit tests, CLI tests, e2e): a tiny repo in hub layout with a real byte-level
 * tokenizer (Llama-3's or Qwen3's tokenizer.json and tokenizer_config.json, chat template
 * included) whose greedy answer to any chat is a known Korean text, written token by token
 * through byte-level pieces (a rare syllable spans two tokens), then a stop token that only
 * generation_config.json (Llama-3's <|eot_id|>) or tokenizer_config.json (Qwen's <|im_end|>)
 * names. Should generation not stop there, the model goes on with a visible " LE" token.
 *
 * How it answers: a bigram chain. One layer whose o_proj and down_proj are zero, so the last
 * hidden state is the current token's embedding; embeddings are one-hot (RMSNorm makes them
 * sqrt(hidden) on one dimension): the chat template's last prompt token (the trigger) on
 * dimension 1, the k-th answer token on 2 + k, every other token on 0; lm_head maps dimension 1
 * to the first answer token, 2 + k to the next one (the last to the stop token), 0 to " LE".
 * So the answer's tokens must all differ (checked). One-hot rows survive q4 exactly.
 *
 * Browser-safe: the caller supplies the tokenizer files' text.
 */
import { f32ToF16Bits } from '../../loader/dtype';
import { encodeSafetensors, type TensorToEncode } from '../../loader/formats/safetensors';
import { seededRandom } from '../../seeded-random';
import { tokenizerFromJson } from '../../tokenizer/load-tokenizer';
import { repoFormat } from '../template';
import { specialTokens } from '../repo';
import { llamaConfigJson, llamaTensorShapes } from '../../model/tiny-model';
import type { ReferenceConfig } from '../../model/reference';

export interface ByteLevelTokenizerFiles {
  tokenizerJson: string;
  tokenizerConfig: string;
}

export interface ByteLevelScript {
  answer: string;
  /** The token that ends the answer (its text: "<|eot_id|>", "<|im_end|>"). */
  stopToken: string;
  /** generation_config.json as the family ships it (its eos_token_id list, sampling). */
  generationConfig: Record<string, unknown>;
  /** config.json's vocab_size; at least the tokenizer's (Qwen pads its to 151936). */
  vocabSize: number;
}

/** The Korean answer: 쓴 and 뷁 span two or three byte-level tokens in both vocabularies, and so does the emoji. */
export const BYTE_LEVEL_ANSWER = '안녕하세요! 바이트 단위로 쓴 한국어 답변입니다: 뷁 😀';

/** Llama-3.x as Meta ships it: <|eot_id|> ends a turn, but tokenizer_config.json's eos is <|end_of_text|>. */
export const LLAMA3_SCRIPT: ByteLevelScript = {
  answer: BYTE_LEVEL_ANSWER,
  stopToken: '<|eot_id|>',
  generationConfig: { bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], do_sample: true, temperature: 0.6, top_p: 0.9 },
  vocabSize: 128256,
};

/** Qwen3: <|im_end|> (tokenizer_config.json's eos), a vocabulary padded past the tokenizer's 151669. */
export const QWEN3_SCRIPT: ByteLevelScript = {
  answer: BYTE_LEVEL_ANSWER,
  stopToken: '<|im_end|>',
  generationConfig: { bos_token_id: 151643, eos_token_id: [151645, 151643], do_sample: true, temperature: 0.6, top_k: 20, top_p: 0.95 },
  vocabSize: 151936,
};

export interface ScriptedByteLevelModel {
  files: Map<string, Uint8Array>;
  config: ReferenceConfig;
  /** What every chat (through the repo's template) gets. */
  answer: string;
  /** The ids greedy generation gives: the answer's, then the stop token's. */
  ids: number[];
  stopId: number;
  /** The token that shows when generation runs past the stop token. */
  leakId: number;
}

const HIDDEN = 64;
/** Logit of the intended next token: RMSNorm makes a one-hot sqrt(64) = 8, times this. */
const LOGIT_WEIGHT = 4;

export function buildScriptedByteLevelModel(files: ByteLevelTokenizerFiles, script: ByteLevelScript): ScriptedByteLevelModel {
  const tokenizerConfig = JSON.parse(files.tokenizerConfig) as Record<string, unknown>;
  const content = (value: unknown) => (typeof value === 'object' && value !== null ? (value as { content: string }).content : (value as string | null | undefined));
  const tokenizer = tokenizerFromJson(files.tokenizerJson, { bosToken: content(tokenizerConfig.bos_token), eosToken: content(tokenizerConfig.eos_token) ?? undefined });
  const format = repoFormat(tokenizerConfig.chat_template as string, specialTokens(tokenizer));
  const prompt = tokenizer.encodeChat(format.render([{ role: 'user', content: '안녕?' }], { addGenerationPrompt: true }));
  const trigger = prompt.at(-1)!;
  const answerIds = tokenizer.encode(script.answer);
  const stopId = tokenizer.pieceToId(script.stopToken);
  const leakId = tokenizer.encode(' LEAK')[0]; // " LE"
  if (stopId === undefined) throw new Error(`the tokenizer has no ${script.stopToken}`);
  const chain = [trigger, ...answerIds];
  if (new Set(chain).size !== chain.length || chain.includes(stopId)) throw new Error('the answer needs distinct tokens, none of them the trigger or the stop token');
  if (answerIds.length + 2 > HIDDEN) throw new Error(`an answer of at most ${HIDDEN - 2} tokens fits a hidden size of ${HIDDEN}`);
  if (script.vocabSize < tokenizer.vocabSize) throw new Error('vocab_size must cover the tokenizer');

  const config: ReferenceConfig = {
    hiddenSize: HIDDEN,
    intermediateSize: 128,
    numLayers: 1,
    numHeads: 4,
    numKvHeads: 2,
    headDim: HIDDEN / 4,
    rmsNormEps: 1e-5,
    ropeTheta: 500000,
    vocabSize: script.vocabSize,
    tieWordEmbeddings: false,
  };
  const embedding = new Float32Array(script.vocabSize * HIDDEN);
  const lmHead = new Float32Array(script.vocabSize * HIDDEN);
  for (let id = 0; id < script.vocabSize; id++) embedding[id * HIDDEN] = 1;
  chain.forEach((id, k) => {
    embedding.fill(0, id * HIDDEN, (id + 1) * HIDDEN);
    embedding[id * HIDDEN + 1 + k] = 1; // the trigger on 1, answer token k on 2 + k
    const next = k + 1 < chain.length ? chain[k + 1] : stopId;
    lmHead[next * HIDDEN + 1 + k] = LOGIT_WEIGHT;
  });
  lmHead[leakId * HIDDEN] = LOGIT_WEIGHT;

  // The layer still runs every kernel (random q/k/v/gate/up) but its outputs are multiplied by zero.
  const uniform = seededRandom(11);
  const values = (name: string, count: number): Float32Array => {
    if (name === 'model.embed_tokens.weight') return embedding;
    if (name === 'lm_head.weight') return lmHead;
    if (name.endsWith('norm.weight')) return new Float32Array(count).fill(1);
    if (name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight')) return new Float32Array(count);
    return Float32Array.from({ length: count }, () => (uniform() - 0.5) * 0.2);
  };
  const tensors: TensorToEncode[] = llamaTensorShapes(config).map(([name, shape]) => {
    const f16 = Uint16Array.from(values(name, shape.reduce((a, b) => a * b, 1)), f32ToF16Bits);
    return { name, dtype: 'F16', shape, data: new Uint8Array(f16.buffer) };
  });

  const encoder = new TextEncoder();
  const json = (value: unknown) => encoder.encode(JSON.stringify(value, null, 2));
  // config.json names the family's own BOS and EOS (LLaMA-1's 1 and 2 are ordinary tokens here).
  const configJson = JSON.parse(new TextDecoder().decode(llamaConfigJson(config, { maxPositions: 1024, dtype: 'F16' })));
  configJson.bos_token_id = script.generationConfig.bos_token_id;
  configJson.eos_token_id = tokenizer.eosId;
  return {
    files: new Map([
      ['config.json', json(configJson)],
      ['generation_config.json', json(script.generationConfig)],
      ['tokenizer.json', encoder.encode(files.tokenizerJson)],
      ['tokenizer_config.json', encoder.encode(files.tokenizerConfig)],
      ['model.safetensors', encodeSafetensors(tensors, { format: 'pt' })],
    ]),
    config,
    answer: script.answer,
    ids: [...answerIds, stopId],
    stopId,
    leakId,
  };
}
