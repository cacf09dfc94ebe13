/**
 * What readRepoFiles makes of a repo's small files: which tokenizer, which chat template, which
 * stop ids and which sampling defaults. No GPU: the weights are never read.
 */
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../loader/sources/memory-source';
import { realTokenizerFiles } from '../tokenizer/testing/real-tokenizers';
import { eosIds, generationDefaults } from './generation-config';
import { defaultPromptFormat, readRepoFiles } from './repo';
import { buildScriptedByteLevelModel, QWEN3_SCRIPT } from './testing/scripted-byte-level';

describe('generation_config.json', () => {
  it('eos_token_id as one id or a list, ids outside the vocabulary left out', () => {
    expect(eosIds({ eos_token_id: 2 }, 32000)).toEqual([2]);
    expect(eosIds({ eos_token_id: [128001, 128008, 128009] }, 128256)).toEqual([128001, 128008, 128009]);
    expect(eosIds({ eos_token_id: [5, -1, 1.5, 'x', 99] }, 10)).toEqual([5]);
    expect(eosIds({}, 10)).toEqual([]);
  });

  it("sampling as transformers reads it: greedy without do_sample, GenerationConfig's defaults for what the file leaves out", () => {
    expect(generationDefaults({ do_sample: true, temperature: 0.6, top_p: 0.9 })).toEqual({ temperature: 0.6, topK: 50, topP: 0.9, repetitionPenalty: 1 });
    expect(generationDefaults({ do_sample: true, temperature: 0.7, top_k: 20, top_p: 0.8, repetition_penalty: 1.05 })).toEqual({
      temperature: 0.7,
      topK: 20,
      topP: 0.8,
      repetitionPenalty: 1.05,
    });
    expect(generationDefaults({ do_sample: true })).toEqual({ temperature: 1, topK: 50, topP: 1, repetitionPenalty: 1 });
    expect(generationDefaults({ temperature: 0.9, top_p: 0.6 })).toEqual({ temperature: 0, topK: 50, topP: 0.6, repetitionPenalty: 1 });
    expect(generationDefaults({ bos_token_id: 1, eos_token_id: 2 })).toEqual({});
    expect(generationDefaults({ repetition_penalty: 1.1 })).toEqual({ temperature: 0, topK: 50, topP: 1, repetitionPenalty: 1.1 });
    expect(generationDefaults({ do_sample: true, temperature: -1, top_p: 3, top_k: 2.5 })).toEqual({ temperature: 1, topK: 50, topP: 1, repetitionPenalty: 1 });
  });
});

describe('readRepoFiles on a Qwen3 repo', () => {
  const files = buildScriptedByteLevelModel(realTokenizerFiles('qwen3'), QWEN3_SCRIPT).files;
  const source = (change: (files: MemorySource) => void = () => {}) => {
    const memory = new MemorySource(files);
    change(memory);
    return memory;
  };

  it('byte-level tokenizer, no BOS, stop ids from tokenizer_config, config.json and generation_config, the repo template', async () => {
    const repo = await readRepoFiles(source((m) => m.set('config.json', JSON.stringify({ ...JSON.parse(new TextDecoder().decode(files.get('config.json'))), eos_token_id: 151643 }))));
    expect(repo.tokenizer.kind).toBe('byte-level');
    expect(repo.tokenizer.bosId).toBeUndefined();
    expect(repo.tokenizer.idToPiece(repo.tokenizer.eosId)).toBe('<|im_end|>');
    expect(repo.stopIds.sort()).toEqual([151643, 151645]);
    expect(repo.generationDefaults).toEqual({ temperature: 0.6, topK: 20, topP: 0.95, repetitionPenalty: 1 });
    expect(defaultPromptFormat(repo).render([{ role: 'user', content: '안녕' }], { addGenerationPrompt: true })).toBe('<|im_start|>user\n안녕<|im_end|>\n<|im_start|>assistant\n');
  });

  it('a chat template from chat_template.jinja, or the "default" of a list of named templates', async () => {
    const withoutTemplate = (change: (config: Record<string, unknown>) => void) => (memory: MemorySource) => {
      const config = JSON.parse(realTokenizerFiles('qwen3').tokenizerConfig);
      delete config.chat_template;
      change(config);
      memory.set('tokenizer_config.json', JSON.stringify(config));
    };
    const jinja = await readRepoFiles(source((memory) => {
      withoutTemplate(() => {})(memory);
      memory.set('chat_template.jinja', '[{{ messages[0].content }}]');
    }));
    expect(jinja.chatTemplate).toBe('[{{ messages[0].content }}]');
    expect(jinja.tokenizerFiles.has('chat_template.jinja')).toBe(true);
    const list = await readRepoFiles(source(withoutTemplate((config) => (config.chat_template = [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }]))));
    expect(list.chatTemplate).toBe('D');
    const none = await readRepoFiles(source(withoutTemplate(() => {})));
    expect(none.chatTemplate).toBeUndefined();
    expect(defaultPromptFormat(none).kind).toBe('vicuna');
  });
});
