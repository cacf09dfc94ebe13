/** The engine's GPU: a device with its pipeline cache, shared by every model loaded on it. */
import { createGpuContext, type GpuContext } from './device';
import type { OpContext } from './ops';
import { PipelineCache } from './pipelines';

export interface Gpu extends OpContext {
  context: GpuContext;
}

export async function createGpu(adapter: GPUAdapter, label = 'engine'): Promise<Gpu> {
  const context = await createGpuContext(adapter, label);
  return {
    context,
    device: context.device,
    pipelines: new PipelineCache(context.device, context.hasShaderF16),
    maxWorkgroups: context.limits.maxComputeWorkgroupsPerDimension,
    maxWorkgroupStorage: context.limits.maxComputeWorkgroupStorageSize,
    subgroups: context.hasSubgroups,
    packedDot: context.hasPackedDot,
    software: context.adapter.isFallback,
    subgroupMatrix: context.subgroupMatrix,
  };
}
