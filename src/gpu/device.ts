/**
 * One GPUDevice for the engine, asked for with the adapter's own limits (a 7B model needs
 * storage bindings far above WebGPU's 128 MiB default) and the optional features we use.
 * Works on `navigator.gpu` in browsers and on Dawn's `gpu` object in Node (see node-gpu.ts).
 */
import { EngineError } from '../errors';
import packedDotProbe from '../../shaders/probe_packed_dot.wgsl?raw';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  /** A software adapter (SwiftShader): correct, but far slower than any GPU. */
  isFallback: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** shader-f16: native f16 arithmetic in WGSL. */
  hasShaderF16: boolean;
  hasSubgroups: boolean;
  hasTimestamps: boolean;
  /** WGSL language feature packed_4x8_integer_dot_product (dot4I8Packed, pack4xI8). */
  hasPackedDot: boolean;
  limits: GPUSupportedLimits;
  /** Resolves when the device is lost (destroyed, driver reset, out of memory). */
  lost: Promise<GPUDeviceLostInfo>;
  /** Throws the first uncaptured GPU error since the last call, as an EngineError. */
  throwIfFailed(): void;
}

const LIMITS_WE_RAISE = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description || `${info.vendor} ${info.architecture}`.trim() || 'unknown adapter',
    isFallback: Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
}

export async function createGpuContext(adapter: GPUAdapter, label = 'engine'): Promise<GpuContext> {
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_WE_RAISE) requiredLimits[name] = adapter.limits[name];
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((feature) => adapter.features.has(feature));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label, requiredLimits, requiredFeatures });
  } catch (error) {
    throw new EngineError('webgpu-unavailable', `The GPU adapter refused to create a device: ${String(error)}`, undefined, {
      cause: error,
    });
  }
  const hasPackedDot = await compiles(device, packedDotProbe);
  const errors: GPUError[] = [];
  device.addEventListener('uncapturederror', (event) => {
    errors.push((event as GPUUncapturedErrorEvent).error);
  });
  return {
    device,
    adapter: summarizeAdapter(adapter),
    hasShaderF16: device.features.has('shader-f16'),
    hasSubgroups: device.features.has('subgroups'),
    hasTimestamps: device.features.has('timestamp-query'),
    hasPackedDot,
    limits: device.limits,
    lost: device.lost,
    throwIfFailed() {
      const first = errors.shift();
      errors.length = 0;
      if (!first) return;
      if (first instanceof GPUOutOfMemoryError) {
        throw new EngineError('out-of-memory', `The GPU ran out of memory: ${first.message}`);
      }
      throw new EngineError('internal', `GPU error: ${first.message}`);
    },
  };
}

/** Whether `code` compiles on this device (a WGSL language feature probe, see probe_packed_dot.wgsl). */
async function compiles(device: GPUDevice, code: string): Promise<boolean> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'feature probe', code });
  const info = await module.getCompilationInfo();
  const error = await device.popErrorScope();
  return !error && !info.messages.some((message) => message.type === 'error');
}

/** The browser's adapter, or a `webgpu-unavailable` error that says what to do. */
export async function requestBrowserAdapter(): Promise<GPUAdapter> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new EngineError(
      'webgpu-unavailable',
      'This browser has no WebGPU. Use a recent Chrome or Edge (113+), or Safari 26+; in Firefox enable dom.webgpu.enabled. WebGPU also needs a secure (https or localhost) page.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new EngineError(
      'webgpu-unavailable',
      'WebGPU is present but no GPU adapter is available. Check that hardware acceleration is on (chrome://settings/system) and the GPU is not blocklisted (chrome://gpu).',
    );
  }
  return adapter;
}
