import { describe, expect, it } from 'vitest';
import type { ErrorCode, ErrorData } from '../../errors';
import { errorHelp, type HelpContext } from './error-help';

const CODES: ErrorCode[] = [
  'webgpu-unavailable', 'unsupported', 'out-of-memory', 'device-lost', 'shader-compile', 'bad-model', 'bad-input',
  'download-failed', 'unauthorized', 'not-found', 'integrity-failed', 'quota-exceeded', 'context-full', 'cancelled', 'internal',
];
const error = (code: ErrorCode, detail?: ErrorData['detail']): ErrorData => ({ code, message: 'engine message', ...(detail ? { detail } : {}) });
const text = (help: { title: string; steps: string[] }) => [help.title, ...help.steps].join('\n');
const mentionsQ4 = /q4/;
const mentionsShorter = /컨텍스트 길이를 줄이/;
const gpuTooSmall = /부족|too small/;

describe('error help', () => {
  it('has a heading for every code, and an unknown code reads as internal', () => {
    for (const code of CODES) expect(errorHelp(error(code)).title.length, code).toBeGreaterThan(0);
    expect(errorHelp(error('no-such-code' as ErrorCode)).title).toMatch(/internal/);
  });

  it.each<[string, HelpContext, boolean, boolean]>([
    ['f16 at 2048 tokens', { dtype: 'f16', contextLength: 2048 }, true, true],
    ['q4 at 2048 tokens', { dtype: 'q4', contextLength: 2048 }, false, true],
    ['q4 at 512 tokens', { dtype: 'q4', contextLength: 512 }, false, false],
  ])('out of GPU memory with %s offers only what is not already set', (_, context, q4, shorter) => {
    const help = errorHelp(error('out-of-memory'), context);
    expect(mentionsQ4.test(text(help))).toBe(q4);
    expect(mentionsShorter.test(text(help))).toBe(shorter);
    expect(help.action).toBe(q4 || shorter ? 'settings' : 'retry');
  });

  it('a buffer past the GPU limit names the fix that shrinks that buffer, and none when nothing does', () => {
    const weights = { binding: 'layers.0.gate_up', bindingKind: 'weights', shrinksAtQ4: true, bindingBytes: 2 ** 30, limit: 2 ** 28 };
    expect(text(errorHelp(error('unsupported', weights), { dtype: 'f16', contextLength: 2048 }))).toMatch(mentionsQ4);
    const atQ4 = errorHelp(error('unsupported', weights), { dtype: 'q4', contextLength: 2048 });
    expect(text(atQ4)).not.toMatch(mentionsQ4);
    expect(text(atQ4)).not.toMatch(mentionsShorter); // the context does not shrink a weight matrix
    expect(atQ4.action).toBe('none');
    // The embedding stays f16 at q4: q4 is no fix for it even when f16 is loaded.
    expect(text(errorHelp(error('unsupported', { ...weights, binding: 'embed', shrinksAtQ4: false }), { dtype: 'f16', contextLength: 2048 }))).not.toMatch(mentionsQ4);
    const kv = errorHelp(error('unsupported', { ...weights, binding: 'KV cache (one layer)', bindingKind: 'kv-cache' }), { dtype: 'f16', contextLength: 2048 });
    expect(text(kv)).toMatch(mentionsShorter);
    expect(text(kv)).not.toMatch(mentionsQ4); // q4 weights leave the KV cache as it is
  });

  it('a missing browser feature is not "GPU too small", nor is an unsupported model', () => {
    const browser = errorHelp(error('unsupported'), { dtype: 'q4', contextLength: 2048 });
    expect(browser.title).not.toMatch(gpuTooSmall);
    expect(text(browser)).toMatch(/OPFS/);
    const model = errorHelp(error('bad-model'), { dtype: 'q4', contextLength: 2048 });
    expect(model.title).not.toMatch(gpuTooSmall);
    expect(text(model)).not.toMatch(mentionsQ4);
    expect(model.action).toBe('none'); // no setting fixes a model the engine cannot read
    // It names every family the engine runs, not LLaMA alone.
    for (const architecture of ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'ExaoneForCausalLM']) expect(text(model)).toContain(architecture);
  });

  it('context full suggests a longer context only below the longest, from the error itself too', () => {
    expect(text(errorHelp(error('context-full'), { contextLength: 1024 }))).toMatch(/늘릴/);
    expect(text(errorHelp(error('context-full', { contextLength: 2048 }), { contextLength: 1024 }))).not.toMatch(/늘릴/);
  });

  it('the engine error detail wins over the tab settings (they may have changed since the load)', () => {
    expect(text(errorHelp(error('out-of-memory', { dtype: 'q4' }), { dtype: 'f16', contextLength: 512 }))).not.toMatch(mentionsQ4);
  });
});
