/** Buffer helpers: labelled creation, the Step uniform, and read-back. */

// GPUBufferUsage flag values from the WebGPU spec, as literals: in Node the GPU* globals exist
// only once Dawn is loaded, after this module is evaluated.
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 } as const;
export const STORAGE = USAGE.STORAGE | USAGE.COPY_DST | USAGE.COPY_SRC;
export const UNIFORM = USAGE.UNIFORM | USAGE.COPY_DST;

export function createBuffer(device: GPUDevice, label: string, size: number, usage = STORAGE): GPUBuffer {
  // WebGPU wants sizes in multiples of 4; zero-size bindings are invalid.
  return device.createBuffer({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage });
}

export function createBufferWith(device: GPUDevice, label: string, data: ArrayBufferView, usage = STORAGE): GPUBuffer {
  const buffer = createBuffer(device, label, data.byteLength, usage);
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** Mirrors `struct Step` in shaders/common.wgsl. */
export interface StepParams {
  nTokens: number;
  pos0: number;
  seed?: number;
  topK?: number;
  temperature?: number;
  topP?: number;
  repetitionPenalty?: number;
  vocabLimit?: number;
}

export const STEP_BYTES = 32;

export function encodeStep(step: StepParams, into = new ArrayBuffer(STEP_BYTES)): ArrayBuffer {
  const u32 = new Uint32Array(into);
  const f32 = new Float32Array(into);
  u32[0] = step.nTokens;
  u32[1] = step.pos0;
  u32[2] = (step.seed ?? 0) >>> 0;
  u32[3] = step.topK ?? 0;
  f32[4] = step.temperature ?? 0;
  f32[5] = step.topP ?? 1;
  f32[6] = step.repetitionPenalty ?? 1;
  u32[7] = step.vocabLimit ?? 0xffffffff;
  return into;
}

/** Copies `size` bytes at `offset` of `buffer` to the CPU (through a mappable staging buffer). */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, offset = 0, size = buffer.size): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ label: `read ${buffer.label}`, size, usage: USAGE.MAP_READ | USAGE.COPY_DST });
  const encoder = device.createCommandEncoder({ label: `read ${buffer.label}` });
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.destroy();
  return copy;
}

/** Workgroup grid for `count` workgroups, spilling into y past the per-dimension limit. */
export function grid(count: number, maxPerDimension = 65535): [number, number] {
  if (count <= maxPerDimension) return [Math.max(1, count), 1];
  const y = Math.ceil(count / maxPerDimension);
  return [Math.ceil(count / y), y];
}
