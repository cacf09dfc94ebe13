import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { checkPlanFits, planMemory, type RunShape } from './memory-plan';
import { matrixBytes } from './upload';
import { tensorFormats, weightLayout } from './weights';

const config = (json: Record<string, unknown>) =>
  parseConfig(JSON.stringify({ model_type: 'llama', hidden_size: 128, intermediate_size: 352, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 1000, ...json }));
const formatsOf = (layout: ReturnType<typeof weightLayout>) => Object.fromEntries(layout.matrices.map((m) => [m.key, m.format]));
const SHAPE: RunShape = { contextLength: 2048, maxChunk: 256, logitsRows: 1, kvFormat: 'f16' };

describe('mixed weight formats at q4', () => {
  it('keeps a matrix in f16 exactly when its input width is not a multiple of 32', () => {
    // intermediate_size 176: down_proj rows are 176 wide; gate/up rows are hidden_size (128) wide.
    const mlp = weightLayout(config({ intermediate_size: 176 }), 'q4', true);
    expect(formatsOf(mlp)).toEqual({
      embed: 'f16',
      ...Object.fromEntries([0, 1].flatMap((l) => [[`layers.${l}.qkv`, 'q4'], [`layers.${l}.o`, 'q4'], [`layers.${l}.gate_up`, 'q4'], [`layers.${l}.down`, 'f16']])),
      lm_head: 'f16',
    });
    expect(tensorFormats(mlp)).toEqual({ q4: 12, f16: 4 });
    // hidden_size 80 (heads of 20): every matrix reading the hidden state (q/k/v, o, gate/up, lm_head) is f16.
    const narrow = weightLayout(config({ hidden_size: 80, intermediate_size: 256 }), 'q4', true);
    expect(formatsOf(narrow)).toMatchObject({ 'layers.0.qkv': 'f16', 'layers.0.o': 'f16', 'layers.0.gate_up': 'f16', 'layers.0.down': 'q4' });
    expect(tensorFormats(narrow)).toEqual({ q4: 2, f16: 14 });
    // A q4 lm_head asked for (measurements) on a width q4 cannot group falls back the same way.
    expect(formatsOf(weightLayout(config({ hidden_size: 80, intermediate_size: 256 }), 'q4', true, 'q4')).lm_head).toBe('f16');
  });

  it('f16 and f32 layouts are uniform, and a tied embedding counts once', () => {
    expect(new Set(Object.values(formatsOf(weightLayout(config({ intermediate_size: 176 }), 'f16', true))))).toEqual(new Set(['f16']));
    expect(tensorFormats(weightLayout(config({ tie_word_embeddings: true }), 'q4', false))).toEqual({ q4: 14, f16: 1 });
  });

  it('the memory plan sizes each matrix in its own format', () => {
    const layout = weightLayout(config({ intermediate_size: 176 }), 'q4', true);
    const plan = planMemory(config({ intermediate_size: 176 }), layout, SHAPE);
    const expected = layout.matrices.reduce((sum, m) => sum + matrixBytes(m.format, m.rows, m.cols), 0) + layout.vectors.reduce((sum, v) => sum + v.length * 4, 0);
    expect(plan.weightBytes).toBe(expected);
    const down = layout.matrices.find((m) => m.key === 'layers.0.down')!;
    expect(matrixBytes(down.format, down.rows, down.cols)).toBe(128 * 176 * 2);
  });

  it('a matrix past the device limit is split; a KV cache layer past it is refused, saying a shorter context shrinks it', () => {
    const limits = (bytes: number) => ({ maxStorageBufferBindingSize: bytes, maxBufferSize: bytes }) as GPUSupportedLimits;
    const c = config({ hidden_size: 4096, intermediate_size: 11008, num_attention_heads: 32, vocab_size: 32000 });
    // The f16 embedding (250 MiB) and gate_up (172 MiB) pass 150 MiB: row blocks, no error.
    const f16 = planMemory(c, weightLayout(c, 'f16', true), SHAPE, 150 << 20);
    expect(f16.blockRows.get('embed')).toBe(19200);
    expect(f16.blockRows.has('layers.0.gate_up')).toBe(true);
    expect(() => checkPlanFits(f16, limits(150 << 20))).not.toThrow();
    const longContext = planMemory(c, weightLayout(c, 'q4', true), { ...SHAPE, contextLength: 65536 }, 300 << 20);
    expect(() => checkPlanFits(longContext, limits(300 << 20))).toThrow(expect.objectContaining({ code: 'unsupported', message: expect.stringMatching(/KV cache.*shorter context/), detail: expect.objectContaining({ bindingKind: 'kv-cache' }) }));
  });
});
