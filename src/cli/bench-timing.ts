/**
 * What the kernel benchmarks measure with: the device's ceilings (copy and streaming-read
 * bandwidth, f32 FMA rate) and a timer that turns one kernel's dispatch into a table row with
 * its share of the ceiling that bounds it. bench-kernels.ts and bench-gemv.ts both time through it.
 */
import { STEP_BYTES, UNIFORM, createBuffer, encodeStep, grid, type StepParams } from '../gpu/buffers';
import type { Dispatch } from '../gpu/ops';
import type { Gpu } from '../gpu/runtime';
import type { PassTimer } from '../gpu/timing';

export interface Ceilings {
  copyGBs: number;
  readGBs: number;
  fp32Gflops: number;
}

export interface KernelRow {
  kernel: string;
  shape: string;
  ms: number;
  gbPerSecond?: number;
  gflops?: number;
  /** Share of the bounding ceiling: read bandwidth for memory-bound kernels, f32 rate for matmuls. */
  percentOfLimit?: number;
}

export interface BenchPlan {
  quick: boolean;
  samples: number;
  prefillTokens: number;
}

/** Times one kernel's dispatch and makes its table row; `step` is the uniform it writes first. */
export type RowTimer = ((kernel: string, shape: string, op: Dispatch, n: number, params: StepParams, cost: { bytes?: number; flops?: number }) => Promise<KernelRow>) & { step: GPUBuffer };

export function rowTimer(gpu: Gpu, timer: PassTimer, ceilings: Ceilings, plan: BenchPlan): RowTimer {
  const step = createBuffer(gpu.device, 'bench step', STEP_BYTES, UNIFORM);
  const time = async (kernel: string, shape: string, op: Dispatch, n: number, params: StepParams, cost: { bytes?: number; flops?: number }) => {
    gpu.device.queue.writeBuffer(step, 0, encodeStep(params));
    const ms = await timer.median((pass) => op.encode(pass, n, params.pos0), { samples: plan.samples, inner: plan.quick ? 1 : 10 });
    const row: KernelRow = { kernel, shape, ms };
    if (cost.bytes) {
      row.gbPerSecond = cost.bytes / ms / 1e6;
      row.percentOfLimit = (100 * row.gbPerSecond) / ceilings.readGBs;
    }
    if (cost.flops) {
      row.gflops = cost.flops / ms / 1e6;
      if (!cost.bytes) row.percentOfLimit = (100 * row.gflops) / ceilings.fp32Gflops;
    }
    return row;
  };
  return Object.assign(time, { step });
}

export async function measureCeilings(gpu: Gpu, timer: PassTimer, plan: BenchPlan): Promise<Ceilings> {
  const { device } = gpu;
  const bytes = Math.min(plan.quick ? 64 << 20 : 1 << 30, gpu.context.limits.maxStorageBufferBindingSize, gpu.context.limits.maxBufferSize) & ~0xffff;
  const source = createBuffer(device, 'bench copy source', bytes);
  const target = createBuffer(device, 'bench copy target', bytes);
  try {
    const copyMs = await medianCopy(device, source, target, bytes, plan.samples);
    const perThread = 16;
    const groups = bytes / 16 / 256 / perThread;
    const readKernel = await gpu.pipelines.get({ kernel: 'bandwidth.wgsl', bindings: ['read', 'storage'], constants: { WG: 256, PER_THREAD: perThread } });
    const readGroup = device.createBindGroup({ layout: readKernel.layout, entries: [source, target].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const [gx, gy] = grid(groups, gpu.maxWorkgroups);
    if (gx * gy !== groups) throw new Error(`bandwidth grid ${gx}x${gy} does not tile ${groups}`);
    const readMs = await timer.median((pass) => dispatch(pass, readKernel.pipeline, readGroup, gx, gy), { samples: plan.samples });

    const iterations = plan.quick ? 64 : 4096;
    const flopsGroups = plan.quick ? 64 : 4096;
    const flopsKernel = await gpu.pipelines.get({ kernel: 'peak_flops.wgsl', bindings: ['storage'], constants: { WG: 256, ITERATIONS: iterations } });
    const flopsGroup = device.createBindGroup({ layout: flopsKernel.layout, entries: [{ binding: 0, resource: { buffer: target } }] });
    const flopsMs = await timer.median((pass) => dispatch(pass, flopsKernel.pipeline, flopsGroup, flopsGroups, 1), { samples: plan.samples });
    const flops = flopsGroups * 256 * iterations * 32 * 2;
    // A copy reads and writes every byte.
    return { copyGBs: (2 * bytes) / copyMs / 1e6, readGBs: bytes / readMs / 1e6, fp32Gflops: flops / flopsMs / 1e6 };
  } finally {
    source.destroy();
    target.destroy();
  }
}

function dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, x: number, y: number): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y);
}

async function medianCopy(device: GPUDevice, source: GPUBuffer, target: GPUBuffer, bytes: number, samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= samples; i++) {
    const encoder = device.createCommandEncoder({ label: 'bench copy' });
    encoder.copyBufferToBuffer(source, 0, target, 0, bytes);
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    if (i > 0) times.push(performance.now() - start); // the first is a warm-up
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
