/**
 * Test support (unit tests and e2e), like tiny-model.ts: a "scripted" LLaMA repo in the real hub
 * layout whose greedy answer is a known text, so the app can be checked on exact output
 * (markdown, code, Korean, XSS payloads) rather than random tokens.
 *
 * How it answers: the tokenizer is LLaMA's (as tokenizer.json) plus one extra piece per answer
 * at ids 32000+, each piece's string a whole answer. The chat template renders only the user's
 * last message, so the prompt's last token is the user's last token: the "trigger".
 * - One layer whose o_proj and down_proj are zero: attention and MLP add nothing, so the final
 *   hidden state of a position is its own embedding.
 * - Embeddings are one-hot (after RMSNorm, sqrt(hidden) on one dimension): trigger i on dimension
 *   2 + i, every answer piece on dimension 1, every other token on dimension 0.
 * - lm_head has one non-zero per used dimension: dimension 2 + i -> answer i, dimension 1 -> EOS,
 *   dimension 0 -> the default answer. So next(trigger) = answer, next(answer) = EOS.
 * One-hot rows survive q4 exactly (a block's single extreme is stored exactly, zeros as zero).
 *
 * Browser-safe: the caller supplies the real LLaMA tokenizer.model bytes.
 */
import { f32ToF16Bits } from '../loader/dtype';
import { seededRandom } from '../seeded-random';
import { encodeSafetensors, type TensorToEncode } from '../loader/formats/safetensors';
import { LlamaTokenizer } from '../tokenizer/llama-tokenizer';
import { sentencePieceToTokenizerJson } from '../tokenizer/llama-converter';
import { parseSentencePieceModel } from '../tokenizer/sentencepiece-model';
import { llamaConfigJson, llamaTensorShapes, TINY_TOKENIZER_CONFIG } from './tiny-model';
import type { ReferenceConfig } from './reference';

export interface Script {
  /** What the user types; only its last token matters. */
  prompt: string;
  answer: string;
}

export const XSS_ANSWER =
  'XSS 테스트: <img src=x onerror=alert(1)> 그리고 <svg/onload=alert(1)> 또 <script>alert(1)</script> 링크 [click](javascript:alert(1)) 끝.';

export const CODE_ANSWER = [
  '피보나치 수열을 구하는 파이썬 코드입니다.',
  '',
  '```python',
  'def fibonacci(n):',
  '    a, b = 0, 1',
  '    for _ in range(n):',
  '        a, b = b, a + b',
  '    return a',
  '```',
].join('\n');

export const KOREAN_ANSWER =
  '안녕하세요! 저는 **스크립트 모델**입니다. 한국어 답변을 확인합니다: 하와이 3일 여행, 피보나치 수열, 그리고 [신라](https://ko.wikipedia.org/wiki/신라)의 삼국 통일.';

/** What every prompt without a script of its own gets. */
export const DEFAULT_ANSWER = '기본 답변입니다. (scripted model: no script for this prompt)';

export const DEFAULT_SCRIPTS: Script[] = [
  { prompt: 'show xss', answer: XSS_ANSWER },
  { prompt: 'show code', answer: CODE_ANSWER },
  { prompt: 'say hello', answer: KOREAN_ANSWER },
];

/** Renders the user's last message only, so its last token picks the answer. */
export const SCRIPTED_CHAT_TEMPLATE = "{{ messages[-1]['content'] }}";

const HIDDEN = 64;
const LLAMA_VOCAB = 32000;
/** Logit of the intended next token: RMSNorm makes a one-hot sqrt(64) = 8, times this. */
const LOGIT_WEIGHT = 4;

export interface ScriptedModel {
  files: Map<string, Uint8Array>;
  config: ReferenceConfig;
  /** The exact text greedy generation gives for `prompt` (as the last user message). */
  answerFor(prompt: string): string;
}


export function buildScriptedModel(tokenizerModel: Uint8Array, scripts: Script[] = DEFAULT_SCRIPTS, defaultAnswer = DEFAULT_ANSWER): ScriptedModel {
  const sentencePiece = parseSentencePieceModel(tokenizerModel);
  if (sentencePiece.pieces.length !== LLAMA_VOCAB) throw new Error(`expected LLaMA's ${LLAMA_VOCAB} pieces, got ${sentencePiece.pieces.length}`);
  if (scripts.length + 2 > HIDDEN) throw new Error(`at most ${HIDDEN - 2} scripts fit a hidden size of ${HIDDEN}`);
  const answers = [defaultAnswer, ...scripts.map((script) => script.answer)];
  if (new Set(answers).size !== answers.length) throw new Error('every answer must be a distinct text');
  const tokenizerJson = sentencePieceToTokenizerJson(sentencePiece, answers);
  const tokenizer = LlamaTokenizer.fromTokenizerJson(tokenizerJson);
  const answerId = (index: number) => LLAMA_VOCAB + index; // 0 = default, 1 + i = scripts[i]

  const lastToken = (prompt: string) => tokenizer.encode(prompt.trim()).at(-1);
  const triggers = scripts.map((script) => lastToken(script.prompt));
  triggers.forEach((trigger, index) => {
    if (trigger === undefined || triggers.indexOf(trigger) !== index) {
      throw new Error(`script "${scripts[index].prompt}" needs a last token no other script ends with`);
    }
  });

  const vocabSize = Math.ceil((LLAMA_VOCAB + answers.length) / 32) * 32;
  const config: ReferenceConfig = {
    hiddenSize: HIDDEN,
    intermediateSize: 128,
    numLayers: 1,
    numHeads: 4,
    numKvHeads: 4,
    headDim: HIDDEN / 4,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    vocabSize,
    tieWordEmbeddings: false,
  };

  const embedding = new Float32Array(vocabSize * HIDDEN);
  const lmHead = new Float32Array(vocabSize * HIDDEN);
  for (let id = 0; id < tokenizer.vocabSize; id++) embedding[id * HIDDEN + (id >= LLAMA_VOCAB ? 1 : 0)] = 1;
  triggers.forEach((trigger, index) => {
    const row = trigger! * HIDDEN;
    embedding.fill(0, row, row + HIDDEN);
    embedding[row + 2 + index] = 1;
    lmHead[answerId(1 + index) * HIDDEN + 2 + index] = LOGIT_WEIGHT;
  });
  lmHead[tokenizer.eosId * HIDDEN + 1] = LOGIT_WEIGHT;
  lmHead[answerId(0) * HIDDEN + 0] = LOGIT_WEIGHT;

  // The layer still runs every kernel (random q/k/v/gate/up) but its outputs are multiplied by zero.
  const uniform = seededRandom(7);
  const random = () => uniform() - 0.5;
  const values = (name: string, count: number): Float32Array => {
    if (name === 'model.embed_tokens.weight') return embedding;
    if (name === 'lm_head.weight') return lmHead;
    if (name.endsWith('norm.weight')) return new Float32Array(count).fill(1);
    if (name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight')) return new Float32Array(count);
    return Float32Array.from({ length: count }, () => random() * 0.2);
  };
  const tensors: TensorToEncode[] = llamaTensorShapes(config).map(([name, shape]) => {
    const f16 = Uint16Array.from(values(name, shape.reduce((a, b) => a * b, 1)), f32ToF16Bits);
    return { name, dtype: 'F16', shape, data: new Uint8Array(f16.buffer) };
  });

  const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));
  const files = new Map<string, Uint8Array>([
    ['config.json', llamaConfigJson(config, { maxPositions: 512, dtype: 'F16' })],
    ['generation_config.json', text({ bos_token_id: 1, eos_token_id: 2 })],
    ['tokenizer.json', new TextEncoder().encode(tokenizerJson)],
    ['tokenizer_config.json', text({ ...TINY_TOKENIZER_CONFIG, chat_template: SCRIPTED_CHAT_TEMPLATE })],
    ['model.safetensors', encodeSafetensors(tensors, { format: 'pt' })],
  ]);

  return {
    files,
    config,
    answerFor(prompt) {
      const index = triggers.indexOf(lastToken(prompt));
      return index < 0 ? defaultAnswer : scripts[index].answer;
    },
  };
}
