/**
 * WGSL sources and their composition. A pipeline's module is common.wgsl, then optional
 * accessors (a weight format, the raw source reader), then one kernel; compile messages are
 * mapped back to `file.wgsl:line` (see `compileShader` in pipelines.ts).
 */
import common from '../../shaders/common.wgsl?raw';
import weightsF32 from '../../shaders/weights_f32.wgsl?raw';
import weightsF16 from '../../shaders/weights_f16.wgsl?raw';
import weightsF16Native from '../../shaders/weights_f16_native.wgsl?raw';
import weightsQ4 from '../../shaders/weights_q4.wgsl?raw';
import kvF32 from '../../shaders/kv_f32.wgsl?raw';
import kvF16 from '../../shaders/kv_f16.wgsl?raw';
import source from '../../shaders/source.wgsl?raw';
import embedding from '../../shaders/embedding.wgsl?raw';
import rmsnorm from '../../shaders/rmsnorm.wgsl?raw';
import ropeKv from '../../shaders/rope_kv.wgsl?raw';
import attention from '../../shaders/attention.wgsl?raw';
import attentionDecode from '../../shaders/attention_decode.wgsl?raw';
import attentionPrefill from '../../shaders/attention_prefill.wgsl?raw';
import decodeRope from '../../shaders/decode_rope.wgsl?raw';
import attentionMerge from '../../shaders/attention_merge.wgsl?raw';
import gemv from '../../shaders/gemv.wgsl?raw';
import gemvBatched from '../../shaders/gemv_batched.wgsl?raw';
import gemvQ4 from '../../shaders/gemv_q4.wgsl?raw';
import gemvQ4Dot from '../../shaders/gemv_q4_dot.wgsl?raw';
import gemvInput from '../../shaders/gemv_input.wgsl?raw';
import gemvOutput from '../../shaders/gemv_output.wgsl?raw';
import reduceWorkgroup from '../../shaders/reduce_workgroup.wgsl?raw';
import reduceSubgroup from '../../shaders/reduce_subgroup.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import matmulReg from '../../shaders/matmul_reg.wgsl?raw';
import matmulSgmat from '../../shaders/matmul_sgmat.wgsl?raw';
import sgmatArgs from '../../shaders/sgmat_args.wgsl?raw';
import sgmatTemplate from '../../shaders/sgmat_template.wgsl?raw';
import swiglu from '../../shaders/swiglu.wgsl?raw';
import sampleScan from '../../shaders/sample_scan.wgsl?raw';
import samplePick from '../../shaders/sample_pick.wgsl?raw';
import sampleDraw from '../../shaders/sample_draw.wgsl?raw';
import sampleState from '../../shaders/sample_state.wgsl?raw';
import tokenLogprobs from '../../shaders/token_logprobs.wgsl?raw';
import convertF32 from '../../shaders/convert_f32.wgsl?raw';
import convertF16 from '../../shaders/convert_f16.wgsl?raw';
import quantizeQ4 from '../../shaders/quantize_q4.wgsl?raw';
import randomFill from '../../shaders/random_fill.wgsl?raw';
import bandwidth from '../../shaders/bandwidth.wgsl?raw';
import peakFlops from '../../shaders/peak_flops.wgsl?raw';
import biasAdd from '../../shaders/bias_add.wgsl?raw';
import headRmsnorm from '../../shaders/head_rmsnorm.wgsl?raw';
import scatterColumns from '../../shaders/scatter_columns.wgsl?raw';

export const SHADER_FILES = {
  'common.wgsl': common,
  'weights_f32.wgsl': weightsF32,
  'weights_f16.wgsl': weightsF16,
  'weights_f16_native.wgsl': weightsF16Native,
  'weights_q4.wgsl': weightsQ4,
  'kv_f32.wgsl': kvF32,
  'kv_f16.wgsl': kvF16,
  'source.wgsl': source,
  'embedding.wgsl': embedding,
  'rmsnorm.wgsl': rmsnorm,
  'rope_kv.wgsl': ropeKv,
  'attention.wgsl': attention,
  'attention_decode.wgsl': attentionDecode,
  'attention_prefill.wgsl': attentionPrefill,
  'decode_rope.wgsl': decodeRope,
  'attention_merge.wgsl': attentionMerge,
  'gemv.wgsl': gemv,
  'gemv_batched.wgsl': gemvBatched,
  'gemv_q4.wgsl': gemvQ4,
  'gemv_q4_dot.wgsl': gemvQ4Dot,
  'gemv_input.wgsl': gemvInput,
  'gemv_output.wgsl': gemvOutput,
  'reduce_workgroup.wgsl': reduceWorkgroup,
  'reduce_subgroup.wgsl': reduceSubgroup,
  'matmul.wgsl': matmul,
  'matmul_reg.wgsl': matmulReg,
  'matmul_sgmat.wgsl': matmulSgmat,
  'sgmat_args.wgsl': sgmatArgs,
  'sgmat_template.wgsl': sgmatTemplate,
  'swiglu.wgsl': swiglu,
  'sample_scan.wgsl': sampleScan,
  'sample_pick.wgsl': samplePick,
  'sample_draw.wgsl': sampleDraw,
  'sample_state.wgsl': sampleState,
  'token_logprobs.wgsl': tokenLogprobs,
  'convert_f32.wgsl': convertF32,
  'convert_f16.wgsl': convertF16,
  'quantize_q4.wgsl': quantizeQ4,
  'random_fill.wgsl': randomFill,
  'bandwidth.wgsl': bandwidth,
  'peak_flops.wgsl': peakFlops,
  'bias_add.wgsl': biasAdd,
  'head_rmsnorm.wgsl': headRmsnorm,
  'scatter_columns.wgsl': scatterColumns,
} as const;

export type ShaderFile = keyof typeof SHADER_FILES;

/** How the engine stores a weight matrix on the GPU. */
export type WeightFormat = 'f32' | 'f16' | 'q4';

export const WEIGHT_ACCESSOR: Record<WeightFormat, ShaderFile> = {
  f32: 'weights_f32.wgsl',
  f16: 'weights_f16.wgsl',
  q4: 'weights_q4.wgsl',
};

/** How the engine stores the KV cache: f32 for the f32 engine, f16 (two per u32) otherwise. */
export type KvFormat = 'f32' | 'f16';

export const KV_ACCESSOR: Record<KvFormat, ShaderFile> = {
  f32: 'kv_f32.wgsl',
  f16: 'kv_f16.wgsl',
};

export const KV_BYTES_PER_ELEMENT: Record<KvFormat, number> = { f32: 4, f16: 2 };

/** SRC_DTYPE codes of source.wgsl. */
export const SOURCE_DTYPE_CODE = { F32: 0, F16: 1, BF16: 2 } as const;

export interface ComposedShader {
  code: string;
  /** Maps a 1-based line of `code` to the file and line it came from. */
  locate(line: number): { file: ShaderFile; line: number };
}

export function composeShader(files: ShaderFile[]): ComposedShader {
  const starts: { file: ShaderFile; start: number }[] = [];
  // WGSL wants `enable` and `requires` directives before any declaration: hoist them, keeping
  // line numbers by leaving the original lines blank.
  const directives = new Set<string>();
  const texts = (['common.wgsl', ...files] as ShaderFile[]).map((file) => {
    const text = SHADER_FILES[file].replace(/^(enable|requires) [^;]+;/gm, (line) => {
      directives.add(line);
      return '';
    });
    return { file, text: text.endsWith('\n') ? text : `${text}\n` };
  });
  const header = directives.size > 0 ? `${[...directives].join(' ')}\n` : '';
  let line = header ? 2 : 1;
  const parts: string[] = [header];
  for (const { file, text } of texts) {
    starts.push({ file, start: line });
    parts.push(text);
    line += text.split('\n').length - 1;
  }
  return {
    code: parts.join(''),
    locate(at: number) {
      let found = starts[0];
      for (const entry of starts) if (entry.start <= at) found = entry;
      return { file: found.file, line: at - found.start + 1 };
    },
  };
}
