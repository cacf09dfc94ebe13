// The test files scripts/gpu-check runs on a lent GPU: every kernel test and the forward-pass
// tests that build their models in memory. Left out: full-size.test.ts (the 7B shape, which
// `bench` loads anyway) and the files that read ../shared/fixtures (the real tokenizer), which the
// device machine does not get.
export const TEST_FILES = [
  'src/gpu/layer-ops.test.ts',
  'src/gpu/linear.test.ts',
  'src/gpu/token-logprobs.test.ts',
  'src/gpu/sample.test.ts',
  'src/gpu/family-ops.test.ts',
  'src/model/llama.test.ts',
  'src/model/llama-score.test.ts',
  'src/model/quantize.test.ts',
  'src/model/families.test.ts',
  'src/model/row-blocks.test.ts',
];
