/**
 * The native comparison for `npm run bench -- --native`: llama.cpp (through node-llama-cpp's
 * prebuilt Vulkan binaries, the same driver Dawn uses) on a random GGUF of the same shape and
 * 4-bit budget, timed the same way (a prompt prefill, then greedy decoding), so our figures stand
 * beside a native engine's from one run. node-llama-cpp is not a dependency of the project (its
 * binaries are ~200 MB): the comparison runs where it is installed and says so where it is not.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LlamaConfig } from '../model/config';
import { writeRandomGguf } from './gguf';

export interface NativeResult {
  engine: string;
  prompts: { tokens: number; tokensPerSecond: number }[];
  decode: { context: number; tokens: number; tokensPerSecond: number }[];
}

export type NativeOutcome = { result: NativeResult } | { unavailable: string };

interface NodeLlamaCpp {
  getLlama(options: object): Promise<{
    gpu: string | false;
    loadModel(options: object): Promise<{
      createContext(options: object): Promise<{ getSequence(): Sequence; dispose(): Promise<void> }>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
}

interface Sequence {
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  evaluate(tokens: number[], options: object): AsyncGenerator<number>;
  clearHistory(): Promise<void>;
}

export async function benchNative(config: LlamaConfig, prompts: number[], decodeRuns: [number, number][]): Promise<NativeOutcome> {
  let module: NodeLlamaCpp;
  try {
    module = (await import(/* @vite-ignore */ 'node-llama-cpp' as string)) as NodeLlamaCpp;
  } catch (error) {
    return { unavailable: `node-llama-cpp is not installed (npm i --no-save node-llama-cpp): ${(error as Error).message.split('\n')[0]}` };
  }
  const file = path.join(tmpdir(), `random-llama-${config.hiddenSize}x${config.numLayers}.gguf`);
  await writeRandomGguf(file, config);
  const llama = await module.getLlama({ gpu: 'vulkan', build: 'never', logLevel: 'error' });
  try {
    if (!llama.gpu) return { unavailable: 'node-llama-cpp found no Vulkan GPU' };
    const model = await llama.loadModel({ modelPath: file, gpuLayers: 'max' });
    const context = await model.createContext({ contextSize: 2048, batchSize: 512, sequences: 1 });
    const sequence = context.getSequence();
    const tokens = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => 259 + ((i * 7919 + salt) % (config.vocabSize - 259)));
    const result: NativeResult = { engine: 'llama.cpp (node-llama-cpp, Vulkan)', prompts: [], decode: [] };
    // llama.cpp's Vulkan backend compiles pipelines on first use: every figure is the second of
    // two identical runs, as our engine's are taken after its pipelines exist.
    const prefill = async (n: number) => {
      await sequence.clearHistory();
      const start = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(tokens(n));
      return n / ((performance.now() - start) / 1000);
    };
    const decode = async (contextTokens: number, count: number) => {
      await sequence.clearHistory();
      const prompt = tokens(contextTokens, 3);
      await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
      let generated = 0;
      const start = performance.now();
      for await (const token of sequence.evaluate(prompt.slice(-1), { temperature: 0 })) {
        void token;
        if (++generated === count) break;
      }
      return { context: contextTokens, tokens: generated, tokensPerSecond: generated / ((performance.now() - start) / 1000) };
    };
    for (const n of prompts) {
      await prefill(n);
      result.prompts.push({ tokens: n, tokensPerSecond: await prefill(n) });
    }
    for (const [contextTokens, count] of decodeRuns) {
      await decode(contextTokens, count);
      result.decode.push(await decode(contextTokens, count));
    }
    await context.dispose();
    await model.dispose();
    return { result };
  } finally {
    await llama.dispose();
    await rm(file, { force: true });
  }
}
