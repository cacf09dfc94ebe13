/**
 * Moves checkpoint tensors onto the GPU in the engine's formats. Raw tensor bytes (F32, F16 or
 * BF16, as stored) are uploaded chunk by chunk into one reused staging buffer and converted or
 * quantised there by convert_f32 / convert_f16 / quantize_q4, so host memory stays bounded by
 * the chunk size whatever the tensor size, and the CPU never touches a float.
 */
import { EngineError } from '../errors';
import { UNIFORM, createBuffer, grid } from '../gpu/buffers';
import { weightBindGroup, type OpContext, type WeightMatrix } from '../gpu/ops';
import { SOURCE_DTYPE_CODE, type WeightFormat } from '../gpu/shaders';
import { SOURCE_DTYPE_BYTES, type SourceDtype } from '../loader/types';

const WG = 256;
/** Staging size: large enough to keep the GPU busy, small enough to bound host memory. */
export const STAGING_BYTES = 16 << 20;
/** Bytes written between waits for the GPU, so queued uploads cannot pile up in host memory. */
const IN_FLIGHT_BYTES = 64 << 20;

/**
 * Bytes of each GPU buffer behind a (rows, cols) matrix in `format`: one (rows, cols) buffer, or
 * for q4 the codes (rows, cols / 8) u32 and the scales (rows, ceil(cols / 64)) u32 (two f16 a word).
 */
export function matrixBufferBytes(format: WeightFormat, rows: number, cols: number): number[] {
  if (format === 'q4') return [rows * (cols / 2), rows * Math.ceil(cols / 64) * 4];
  return [rows * cols * (format === 'f32' ? 4 : 2)];
}

/** Bytes a (rows, cols) matrix takes on the GPU in `format`. */
export function matrixBytes(format: WeightFormat, rows: number, cols: number): number {
  return matrixBufferBytes(format, rows, cols).reduce((sum, bytes) => sum + bytes, 0);
}

/** Loader bytes are never backed by a SharedArrayBuffer; this tells TypeScript so. */
function asBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

export class Uploader {
  private stagingBuffers?: { staging: GPUBuffer; params: GPUBuffer };
  private sinceWait = 0;

  constructor(private readonly ctx: OpContext) {}

  /** Made on first conversion: plain copies and cache restores never need them. */
  private get buffers(): { staging: GPUBuffer; params: GPUBuffer } {
    this.stagingBuffers ??= {
      // (STAGING_BYTES) raw little-endian source bytes of one chunk
      staging: createBuffer(this.ctx.device, 'upload staging', STAGING_BYTES),
      // Convert { count, offset } or Quantize { rows, row_offset }
      params: createBuffer(this.ctx.device, 'upload params', 16, UNIFORM),
    };
    return this.stagingBuffers;
  }

  createMatrix(label: string, format: WeightFormat, rows: number, cols: number): WeightMatrix {
    const { device } = this.ctx;
    const sizes = matrixBufferBytes(format, rows, cols);
    const names = format === 'q4' ? [`${label} q4 codes`, `${label} q4 scales`] : [label];
    const buffers = sizes.map((bytes, i) => createBuffer(device, names[i], bytes));
    return { format, rows, cols, buffers, bindGroup: weightBindGroup(this.ctx, format, buffers, label) };
  }

  /** A (length) f32 vector, e.g. a norm's gain. */
  createVector(label: string, length: number): GPUBuffer {
    return createBuffer(this.ctx.device, label, length * 4);
  }

  /** Rows that fit one staging chunk. */
  rowsPerChunk(cols: number, dtype: SourceDtype): number {
    return Math.max(1, Math.floor(STAGING_BYTES / (cols * SOURCE_DTYPE_BYTES[dtype])));
  }

  /**
   * Writes `rows` rows of raw source bytes into matrix rows [rowOffset, rowOffset + rows).
   * `bytes` must hold at most rowsPerChunk rows.
   */
  async writeRows(matrix: WeightMatrix, rowOffset: number, rows: number, dtype: SourceDtype, bytes: Uint8Array): Promise<void> {
    const { cols, format } = matrix;
    if (bytes.byteLength !== rows * cols * SOURCE_DTYPE_BYTES[dtype] || bytes.byteLength > STAGING_BYTES) {
      throw new EngineError('internal', `upload of ${matrix.buffers[0].label}: ${bytes.byteLength} bytes for ${rows} rows`);
    }
    if (format === 'q4') {
      await this.convert('quantize_q4.wgsl', dtype, bytes, matrix.buffers, [rows, rowOffset], { IN_DIM: cols }, Math.ceil((rows * Math.ceil(cols / 64)) / WG));
    } else {
      await this.writeElements(matrix.buffers[0], format, rowOffset * cols, dtype, bytes);
    }
  }

  /** Writes source elements into an f32 or f16 buffer starting at element `offset`. */
  async writeElements(destination: GPUBuffer, format: 'f32' | 'f16', offset: number, dtype: SourceDtype, bytes: Uint8Array): Promise<void> {
    const count = bytes.byteLength / SOURCE_DTYPE_BYTES[dtype];
    if ((format === 'f32' && dtype === 'F32') || (format === 'f16' && dtype === 'F16')) {
      // Same type: a plain copy (offsets stay 4-byte aligned: f16 tensors have even row lengths).
      await this.copy(destination, offset * (format === 'f32' ? 4 : 2), bytes);
      return;
    }
    const kernel = format === 'f32' ? 'convert_f32.wgsl' : 'convert_f16.wgsl';
    const perThread = format === 'f32' ? 1 : 2;
    await this.convert(kernel, dtype, bytes, [destination], [count, offset], {}, Math.ceil(count / perThread / WG));
  }

  private async convert(
    kernelFile: 'convert_f32.wgsl' | 'convert_f16.wgsl' | 'quantize_q4.wgsl',
    dtype: SourceDtype,
    bytes: Uint8Array,
    destinations: GPUBuffer[],
    params: [number, number],
    constants: Record<string, number>,
    workgroups: number,
  ): Promise<void> {
    const { device, pipelines } = this.ctx;
    const kernel = await pipelines.get({
      kernel: kernelFile,
      accessors: ['source.wgsl'],
      bindings: ['uniform', 'read', 'storage', ...(destinations.length > 1 ? (['storage'] as const) : [])],
      constants: { SRC_DTYPE: SOURCE_DTYPE_CODE[dtype], WG, ...constants },
    });
    const { staging, params: paramsBuffer } = this.buffers;
    device.queue.writeBuffer(staging, 0, asBufferSource(bytes));
    device.queue.writeBuffer(paramsBuffer, 0, new Uint32Array(params));
    const group = device.createBindGroup({
      label: `upload ${destinations[0].label}`,
      layout: kernel.layout,
      entries: [paramsBuffer, staging, ...destinations].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder({ label: `upload ${destinations[0].label}` });
    const pass = encoder.beginComputePass({ label: kernel.label });
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(...grid(workgroups, this.ctx.maxWorkgroups));
    pass.end();
    device.queue.submit([encoder.finish()]);
    await this.throttle(bytes.byteLength);
  }

  /** Copies bytes already in the engine's format into `destination` at `byteOffset`. */
  async copy(destination: GPUBuffer, byteOffset: number, bytes: Uint8Array): Promise<void> {
    this.ctx.device.queue.writeBuffer(destination, byteOffset, asBufferSource(bytes));
    await this.throttle(bytes.byteLength);
  }

  private async throttle(bytes: number): Promise<void> {
    this.sinceWait += bytes;
    if (this.sinceWait >= IN_FLIGHT_BYTES) {
      this.sinceWait = 0;
      await this.ctx.device.queue.onSubmittedWorkDone();
    }
  }

  /** Waits for every queued upload, then frees the staging buffers. */
  async finish(): Promise<void> {
    await this.ctx.device.queue.onSubmittedWorkDone();
    this.stagingBuffers?.staging.destroy();
    this.stagingBuffers?.params.destroy();
    this.stagingBuffers = undefined;
  }
}
