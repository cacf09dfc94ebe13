/**
 * Each family as a user meets it: a tiny random repo in hub layout (safetensors shards and their
 * index, config.json and generation_config.json as the family writes them, the family's real
 * tokenizer files) served by the fake hub, opened through HubSource like a download. Korean text
 * goes through the repo's own tokenizer; logits of every position (config.json's vocab_size of
 * them, padded rows included) and greedy ids are held to the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu/testing';
import { HubSource } from '../loader/hub/hub-source';
import { startFakeHub, type FakeHub } from '../loader/testing/fake-hub';
import { argmaxRows, rowRelativeError } from '../model/logit-checks';
import { greedyReference, referenceLogits } from '../model/reference';
import { buildTinyModel, TINY_TOKENIZER_CONFIG, type TinyModel, type TinyModelSpec } from '../model/tiny-model';
import { llamaTokenizerModel } from '../model/tiny-model-node';
import { realTokenizerFiles } from '../tokenizer/testing/real-tokenizers';
import { openEngine } from './open-engine';

const TEXT = '신라의 통일';
// Narrow (hidden 32): each repo carries a real tokenizer's 100-150k rows, and their lm_head is
// what a step costs on SwiftShader.
const SHAPE = { hiddenSize: 32, intermediateSize: 96, numLayers: 2, numHeads: 2, numKvHeads: 1, dtype: 'BF16', format: 'safetensors', shards: 2 } as const;
const LLAMA3_ROPE = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 };

interface HubCase {
  spec: TinyModelSpec;
  tokenizer: 'llama3' | 'qwen3' | 'sentencepiece';
  kind: 'byte-level' | 'sentencepiece';
}

const CASES: [string, HubCase][] = [
  [
    'meta-llama/Llama-3.2-tiny',
    { spec: { ...SHAPE, family: 'llama', headDim: 16, vocabSize: 128256, tieWordEmbeddings: true, ropeTheta: 500000, ropeScaling: LLAMA3_ROPE, bosTokenId: 128000, eosTokenId: [128001, 128008, 128009], seed: 71 }, tokenizer: 'llama3', kind: 'byte-level' },
  ],
  [
    'Qwen/Qwen2.5-tiny',
    { spec: { ...SHAPE, family: 'qwen2', vocabSize: 151936, tieWordEmbeddings: true, ropeTheta: 1e6, bosTokenId: 151643, eosTokenId: 151645, seed: 72 }, tokenizer: 'qwen3', kind: 'byte-level' },
  ],
  [
    'Qwen/Qwen3-tiny',
    { spec: { ...SHAPE, family: 'qwen3', headDim: 24, vocabSize: 151936, tieWordEmbeddings: true, ropeTheta: 1e6, bosTokenId: 151643, eosTokenId: 151645, seed: 73 }, tokenizer: 'qwen3', kind: 'byte-level' },
  ],
  ['mistralai/Mistral-tiny', { spec: { ...SHAPE, family: 'mistral', vocabSize: 32000, slidingWindow: 7, seed: 74 }, tokenizer: 'sentencepiece', kind: 'sentencepiece' }],
  [
    // EXAONE's own byte-level tokenizer does not ship in a package; the LLaMA one stands in.
    'LGAI-EXAONE/EXAONE-tiny',
    { spec: { ...SHAPE, family: 'exaone', headDim: 16, vocabSize: 102400, ropeTheta: 1e6, ropeScaling: LLAMA3_ROPE, rmsNormEps: 1e-5, seed: 75 }, tokenizer: 'sentencepiece', kind: 'sentencepiece' },
  ],
];

let hub: FakeHub;
const models = new Map<string, TinyModel>();

beforeAll(async () => {
  hub = await startFakeHub();
  const sentencepiece = await llamaTokenizerModel();
  for (const [repo, { spec, tokenizer }] of CASES) {
    const files: Record<string, string | Uint8Array> =
      tokenizer === 'sentencepiece'
        ? { 'tokenizer.model': sentencepiece, 'tokenizer_config.json': JSON.stringify(TINY_TOKENIZER_CONFIG) }
        : { 'tokenizer.json': realTokenizerFiles(tokenizer).tokenizerJson, 'tokenizer_config.json': realTokenizerFiles(tokenizer).tokenizerConfig };
    const model = buildTinyModel({ ...spec, extraFiles: files });
    models.set(repo, model);
    hub.addRepo(repo, model.files);
  }
});
afterAll(() => hub.close());

describe.each(CASES)('%s from the hub', (repo, { spec, kind }) => {
  // f32 against float64: the bar of llama.test.ts (1e-4 of each row's scale).
  it('tokenizes Korean with its own tokenizer; logits of every position (padded rows too) and greedy ids match the reference', async () => {
    const model = models.get(repo)!;
    const opened = await openEngine(await testGpu(), new HubSource({ repo, endpoint: hub.url }), { repo, revision: 'main', dtype: 'f32', maxChunk: 16, logitsRows: 16, contextLength: 64 });
    const { engine } = opened;
    try {
      expect(engine.repo.config.architecture).toBe(JSON.parse(new TextDecoder().decode(model.files.get('config.json'))).architectures[0]);
      expect(engine.repo.tokenizer.kind).toBe(kind);
      const tokens = engine.repo.tokenizer.encode(TEXT, { addBos: true });
      expect(tokens.length).toBeGreaterThan(3);
      expect(tokens.length).toBeLessThanOrEqual(16); // one chunk of logits
      const vocab = spec.vocabSize!;
      const logits = await engine.model.logits(tokens);
      expect(logits.length).toBe(tokens.length * vocab);
      const expected = referenceLogits(model.config, model.weights, tokens);
      expect(rowRelativeError(logits, expected, vocab)).toBeLessThan(1e-4);
      expect(argmaxRows(logits, vocab)).toEqual(argmaxRows(expected, vocab));

      const settings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, maxNewTokens: 2 };
      const result = await engine.complete(tokens, settings);
      const limit = engine.repo.tokenizer.vocabSize;
      expect(result.ids).toEqual(greedyReference(model.config, model.weights, tokens, 2, engine.repo.stopIds, limit));
    } finally {
      engine.dispose();
    }
  });
});
