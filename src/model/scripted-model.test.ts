import { describe, expect, it } from 'vitest';
import { ChatEngine, type ChatSettings } from '../chat/engine';
import { testGpu } from '../gpu/testing';
import { MemorySource } from '../loader/sources/memory-source';
import { llamaModelBytes } from '../tokenizer/testing';
import { GREEDY } from './llama';
import { buildScriptedModel, CODE_ANSWER, DEFAULT_ANSWER, KOREAN_ANSWER, XSS_ANSWER } from './scripted-model';

const SETTINGS: ChatSettings = { ...GREEDY, maxNewTokens: 16 };

describe('scripted model', () => {
  const scripted = buildScriptedModel(llamaModelBytes());

  it('is a LLaMA repo with a vocabulary padded to a multiple of 32 and its own chat template', () => {
    expect(scripted.config.vocabSize % 32).toBe(0);
    expect([...scripted.files.keys()].sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(new TextDecoder().decode(scripted.files.get('tokenizer_config.json'))).chat_template).toContain('messages[-1]');
  });

  it.each(['f16', 'q4'] as const)('greedy generation (%s) gives exactly the scripted answers, then EOS', async (dtype) => {
    const engine = await ChatEngine.load(await testGpu(), new MemorySource(scripted.files), { dtype, contextLength: 128 });
    try {
      const cases: [string, string][] = [
        ['show xss', XSS_ANSWER],
        ['please show code', CODE_ANSWER],
        ['say hello', KOREAN_ANSWER],
        ['하와이 3일 여행 계획을 세워 주세요.', DEFAULT_ANSWER],
      ];
      for (const [prompt, answer] of cases) {
        engine.session.reset();
        const streamed: string[] = [];
        const result = await engine.chat([{ role: 'user', content: prompt }], SETTINGS, { onText: (text) => streamed.push(text) });
        expect(scripted.answerFor(prompt)).toBe(answer);
        expect(result.text).toBe(answer);
        expect(streamed.join('')).toBe(answer);
        expect(result.finishReason).toBe('eos');
        expect(result.ids).toHaveLength(2); // the answer piece, then EOS (kept in ids)
      }
    } finally {
      engine.dispose();
    }
  });
});
