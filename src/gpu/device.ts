/**
 * One GPUDevice for the engine, asked for with the adapter's own limits (a 7B model needs
 * storage bindings far above WebGPU's 128 MiB default) and the optional features we use.
 * Works on `navigator.gpu` in browsers and on Dawn's `gpu` object in Node (see node-gpu.ts).
 */
import { EngineError } from '../errors';
import packedDotProbe from '../../shaders/probe_packed_dot.wgsl?raw';
import { composeShader, SHADER_FILES } from './shaders';

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
  /**
   * Matrix units through chromium-experimental-subgroup-matrix (matmul_sgmat.wgsl): present when
   * the adapter offers 16 x 16 x 16 f16 products into f32, has one subgroup size, and the
   * compiler takes one of the two syntaxes Dawn has used (the accessor file that compiled).
   */
  subgroupMatrix?: SubgroupMatrix;
  limits: GPUSupportedLimits;
  /** Resolves when the device is lost (destroyed, driver reset, out of memory). */
  lost: Promise<GPUDeviceLostInfo>;
  /** Throws the first uncaptured GPU error since the last call, as an EngineError. */
  throwIfFailed(): void;
}

export interface SubgroupMatrix {
  accessor: 'sgmat_args.wgsl' | 'sgmat_template.wgsl';
  subgroupSize: number;
}

const SUBGROUP_MATRIX = 'chromium-experimental-subgroup-matrix' as GPUFeatureName;

interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
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
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query', SUBGROUP_MATRIX];
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
  const subgroupMatrix = await probeSubgroupMatrix(device, adapter);
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
    subgroupMatrix,
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

/** matmul_sgmat.wgsl's requirements (see GpuContext.subgroupMatrix), or undefined. */
async function probeSubgroupMatrix(device: GPUDevice, adapter: GPUAdapter): Promise<SubgroupMatrix | undefined> {
  if (!device.features.has(SUBGROUP_MATRIX) || !device.features.has('shader-f16')) return undefined;
  const info = adapter.info as GPUAdapterInfo & { subgroupMatrixConfigs?: SubgroupMatrixConfig[]; subgroupMinSize?: number; subgroupMaxSize?: number };
  const configs = info.subgroupMatrixConfigs ?? [];
  const f16Into32 = configs.some((c) => c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === 16 && c.N === 16 && c.K === 16);
  const subgroupSize = info.subgroupMaxSize;
  if (!f16Into32 || !subgroupSize || info.subgroupMinSize !== subgroupSize) return undefined;
  for (const accessor of ['sgmat_template.wgsl', 'sgmat_args.wgsl'] as const) {
    const probe = `enable f16;\n${SHADER_FILES[accessor]}
var<workgroup> a_tile: array<f16, 2048>;
var<workgroup> b_tile: array<f16, 2048>;
var<workgroup> c_stage: array<f32, 1024>;
@compute @workgroup_size(${subgroupSize})
fn main() {
  var acc: subgroup_matrix_result<f32, 16, 16>;
  acc = subgroupMatrixMultiplyAccumulate(sm_left(0u), sm_right(0u), acc);
  sm_store(0u, acc);
}`;
    if (!(await compiles(device, probe))) continue;
    // The whole kernel too, built as linear-op builds it: an experimental extension may take the
    // syntax and still refuse the kernel, and then every q4 load would fail rather than fall back.
    const { code } = composeShader([accessor, 'weights_q4.wgsl', 'matmul_sgmat.wgsl']);
    device.pushErrorScope('validation');
    const built = await device
      .createComputePipelineAsync({
        label: 'subgroup matrix probe',
        layout: 'auto',
        compute: { module: device.createShaderModule({ label: 'subgroup matrix probe', code }), entryPoint: 'main', constants: { IN_DIM: 4096, OUT_DIM: 4096, SG_SIZE: subgroupSize, WG: 4 * subgroupSize } },
      })
      .then(
        () => true,
        () => false,
      );
    const error = await device.popErrorScope();
    return built && !error ? { accessor, subgroupSize } : undefined;
  }
  return undefined;
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
