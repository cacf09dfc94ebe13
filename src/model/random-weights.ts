/**
 * Random weights generated on the GPU for a model of any shape: the 7B-shaped test and the
 * benchmark run the real kernels at full size with no download and no host copy of the
 * weights. Values are scaled like a trained model's (about 1/sqrt(fan-in)) so activations stay
 * finite through 32 layers; the text they produce is of course noise.
 */
import { EngineError } from '../errors';
import { UNIFORM, createBuffer, grid } from '../gpu/buffers';
import type { Gpu } from '../gpu/runtime';
import type { GpuWeights, WeightSource } from './load-weights';
import { matrixBytes } from './upload';
import type { WeightLayout } from './weights';

enum Mode {
  Bits = 0,
  F16Uniform = 1,
  F16Constant = 2,
  F32Constant = 3,
}

export function randomWeights(seed: number, options: { tiedEmbeddings?: boolean } = {}): WeightSource {
  return {
    hasLmHead: !options.tiedEmbeddings,
    check() {},
    async fill(gpu: Gpu, { matrices, vectors }: GpuWeights, layout: WeightLayout, { onProgress, signal }): Promise<void> {
      const totalBytes = layout.matrices.reduce((sum, m) => sum + matrixBytes(m.format, m.rows, m.cols), 0);
      let doneBytes = 0;
      let salt = seed >>> 0;
      // Fill { words, seed, scale }, rewritten before each fill (queue order keeps them apart).
      const params = createBuffer(gpu.device, 'random fill params', 12, UNIFORM);
      const fill = async (buffer: GPUBuffer, mode: Mode, scale: number) => {
        salt = (salt + 0x9e3779b9) >>> 0;
        const words = buffer.size / 4;
        const data = new ArrayBuffer(12);
        new Uint32Array(data, 0, 2).set([words, salt]);
        new Float32Array(data, 8, 1)[0] = scale;
        gpu.device.queue.writeBuffer(params, 0, data);
        const kernel = await gpu.pipelines.get({ kernel: 'random_fill.wgsl', bindings: ['uniform', 'storage'], constants: { MODE: mode } });
        const encoder = gpu.device.createCommandEncoder({ label: `random ${buffer.label}` });
        const pass = encoder.beginComputePass();
        pass.setPipeline(kernel.pipeline);
        const entries = [params, buffer].map((b, binding) => ({ binding, resource: { buffer: b } }));
        pass.setBindGroup(0, gpu.device.createBindGroup({ layout: kernel.layout, entries }));
        pass.dispatchWorkgroups(...grid(Math.ceil(words / 256), gpu.maxWorkgroups));
        pass.end();
        gpu.device.queue.submit([encoder.finish()]);
      };
      try {
        for (const m of layout.matrices) {
          signal?.throwIfAborted();
          const { blocks, format, cols } = matrices.get(m.key)!;
          // Uniform in [-a, a] has standard deviation a / sqrt(3): a = sqrt(3 / cols) gives 1/sqrt(cols).
          const amplitude = m.key === 'embed' ? 1 : Math.sqrt(3 / cols);
          for (const { matrix: { buffers } } of blocks) {
            if (format === 'q4') {
              // Codes uniform in 0..15 around 8 have standard deviation ~4.6: scale to 1/sqrt(cols).
              await fill(buffers[0], Mode.Bits, 0);
              await fill(buffers[1], Mode.F16Constant, 1 / (4.6 * Math.sqrt(cols)));
            } else if (format === 'f16') {
              await fill(buffers[0], Mode.F16Uniform, amplitude);
            } else {
              throw new EngineError('unsupported', 'Random weights are generated in f16 or q4 only');
            }
          }
          doneBytes += matrixBytes(m.format, m.rows, m.cols);
          onProgress?.({ doneBytes, totalBytes, tensor: m.key });
          await gpu.device.queue.onSubmittedWorkDone();
        }
        for (const v of layout.vectors) await fill(vectors.get(v.key)!, Mode.F32Constant, 1);
        await gpu.device.queue.onSubmittedWorkDone();
        gpu.context.throwIfFailed();
      } finally {
        params.destroy();
      }
    },
  };
}
