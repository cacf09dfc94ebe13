/**
 * Compute pipelines, built once at load from composed WGSL and cached by (files, constants).
 * Bind group layouts are explicit so one weight bind group (group 1) serves every kernel that
 * reads the matrix: the decode GEMV, the prefill matmul and the embedding gather.
 */
import { EngineError } from '../errors';
import { WEIGHT_ACCESSOR, composeShader, type ShaderFile, type WeightFormat } from './shaders';

/** Binding kinds of group 0, by binding index. `null` leaves an index unused. */
export type BindingKind = 'uniform' | 'read' | 'storage' | null;

export interface KernelSpec {
  /** The kernel file; accessors named in `accessors` are composed before it. */
  kernel: ShaderFile;
  accessors?: ShaderFile[];
  /** Group 1 = this weight format's accessor and bindings. */
  weights?: WeightFormat;
  /** Group 1 = this weight format's bindings, declared by the kernel itself (no accessor). */
  weightLayout?: WeightFormat;
  bindings: BindingKind[];
  constants: Record<string, number | boolean>;
}

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  label: string;
}

const BINDING_TYPE: Record<Exclude<BindingKind, null>, GPUBufferBindingType> = {
  uniform: 'uniform',
  read: 'read-only-storage',
  storage: 'storage',
};

export class PipelineCache {
  private readonly kernels = new Map<string, Promise<Kernel>>();
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  readonly weightLayouts: Record<WeightFormat, GPUBindGroupLayout>;

  /**
   * `shaderF16`: read f16 weights as native f16 (weights_f16_native.wgsl) instead of unpacking
   * u32 pairs; same buffers, so nothing else changes.
   */
  constructor(
    private readonly device: GPUDevice,
    readonly shaderF16 = false,
  ) {
    const weightLayout = (format: WeightFormat, count: number) =>
      device.createBindGroupLayout({
        label: `weights ${format}`,
        entries: Array.from({ length: count }, (_, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: 'read-only-storage' as const },
        })),
      });
    this.weightLayouts = { f32: weightLayout('f32', 1), f16: weightLayout('f16', 1), q4: weightLayout('q4', 2) };
  }

  get(spec: KernelSpec): Promise<Kernel> {
    const key = JSON.stringify(spec);
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.build(spec);
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  private async build(spec: KernelSpec): Promise<Kernel> {
    const accessor = spec.weights === 'f16' && this.shaderF16 ? 'weights_f16_native.wgsl' : spec.weights && WEIGHT_ACCESSOR[spec.weights];
    const files = [...(spec.accessors ?? []), ...(accessor ? [accessor] : []), spec.kernel];
    const label = `${spec.kernel}${spec.weights ? ` (${spec.weights})` : ''}`;
    const module = await this.module(files, label);
    const layout = this.device.createBindGroupLayout({
      label,
      entries: spec.bindings.flatMap((kind, binding) =>
        kind ? [{ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: BINDING_TYPE[kind] } }] : [],
      ),
    });
    const group1 = spec.weights ?? spec.weightLayout;
    const layouts = group1 ? [layout, this.weightLayouts[group1]] : [layout];
    const constants: Record<string, number> = {};
    for (const [name, value] of Object.entries(spec.constants)) constants[name] = Number(value);
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label,
        layout: this.device.createPipelineLayout({ label, bindGroupLayouts: layouts }),
        compute: { module, entryPoint: 'main', constants },
      });
      return { pipeline, layout, label };
    } catch (error) {
      throw new EngineError('shader-compile', `${spec.kernel}: pipeline creation failed (${JSON.stringify(spec.constants)}): ${String(error)}`);
    }
  }

  private module(files: ShaderFile[], label: string): Promise<GPUShaderModule> {
    const key = files.join('+');
    let module = this.modules.get(key);
    if (!module) {
      module = compileShader(this.device, files, label);
      this.modules.set(key, module);
    }
    return module;
  }
}

/** Compiles composed WGSL; errors are rethrown as `file.wgsl:line:col message`. */
export async function compileShader(device: GPUDevice, files: ShaderFile[], label: string): Promise<GPUShaderModule> {
  const composed = composeShader(files);
  const module = device.createShaderModule({ label, code: composed.code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((message) => message.type === 'error');
  if (errors.length > 0) {
    const text = errors
      .map((message) => {
        const where = composed.locate(message.lineNum);
        return `${where.file}:${where.line}:${message.linePos} ${message.message}`;
      })
      .join('\n');
    throw new EngineError('shader-compile', `WGSL compile error in ${label}:\n${text}`);
  }
  return module;
}
