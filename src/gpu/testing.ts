/**
 * Test helpers (tests only): one real WebGPU device per test file (Dawn in Node; SwiftShader
 * where there is no GPU), seeded random inputs, float64 comparisons.
 * A missing adapter throws: in CI that is a failure, never a skip.
 */
import { requestNodeAdapter } from './node-gpu';
import { createGpu, type Gpu } from './runtime';
import type { Dispatch } from './ops';
import { STEP_BYTES, UNIFORM, createBuffer, createBufferWith, encodeStep, readBuffer, type StepParams } from './buffers';
export type TestGpu = Gpu;

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= requestNodeAdapter().then((adapter) => createGpu(adapter, 'test'));
  return shared;
}

export { seededRandom } from '../seeded-random';

/** `count` standard normal values times `scale` (Box-Muller), as float32. */
export function randomNormal(random: () => number, count: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const theta = 2 * Math.PI * random();
    out[i] = r * Math.cos(theta) * scale;
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta) * scale;
  }
  return out;
}

export function gpuBuffer(t: TestGpu, label: string, data: Float32Array | Uint32Array): GPUBuffer {
  return createBufferWith(t.device, label, data);
}

export function emptyBuffer(t: TestGpu, label: string, bytes: number): GPUBuffer {
  return createBuffer(t.device, label, bytes);
}

export function stepBuffer(t: TestGpu, step: StepParams): GPUBuffer {
  return createBufferWith(t.device, 'step', new Uint8Array(encodeStep(step)), UNIFORM);
}

export function writeStep(t: TestGpu, buffer: GPUBuffer, step: StepParams): void {
  t.device.queue.writeBuffer(buffer, 0, encodeStep(step), 0, STEP_BYTES);
}

export async function readF32(t: TestGpu, buffer: GPUBuffer, count?: number): Promise<Float32Array> {
  const data = new Float32Array(await readBuffer(t.device, buffer));
  t.context.throwIfFailed();
  return count === undefined ? data : data.slice(0, count);
}

export async function readU32(t: TestGpu, buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
  const data = new Uint32Array(await readBuffer(t.device, buffer));
  t.context.throwIfFailed();
  return count === undefined ? data : data.slice(0, count);
}

/** Runs dispatches for a chunk of `nTokens` rows at position 0 in one compute pass and submits. */
export function run(t: TestGpu, nTokens: number, ...dispatches: Dispatch[]): void {
  runAt(t, nTokens, 0, ...dispatches);
}

/** As `run`, for a chunk starting at `pos0` (the Step uniform must say the same). */
export function runAt(t: TestGpu, nTokens: number, pos0: number, ...dispatches: Dispatch[]): void {
  const encoder = t.device.createCommandEncoder({ label: 'test' });
  const pass = encoder.beginComputePass({ label: 'test' });
  for (const dispatch of dispatches) dispatch.encode(pass, nTokens, pos0);
  pass.end();
  t.device.queue.submit([encoder.finish()]);
}

/** max |a - b| / max |b| over the whole array: error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= maxDiff)) maxDiff = Number.isNaN(diff) ? Infinity : diff;
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / maxRef;
}

/** Poison value for outputs, so a kernel that skips an element cannot pass. */
export function poisoned(count: number): Float32Array {
  return new Float32Array(count).fill(Number.NaN);
}

/**
 * The same device, with its binding limits (maxStorageBufferBindingSize, maxBufferSize) reported
 * as `bytes`: what the engine plans with, so a tiny model splits as a 7B one does on a small GPU.
 * WebGPU cannot lower a real device's limits below its defaults (128 MiB); the buffers stay real.
 */
export function withBindingLimit(gpu: Gpu, bytes: number): Gpu {
  const real = gpu.context.limits;
  const limits = new Proxy(real, {
    get: (target, key) => (key === 'maxStorageBufferBindingSize' || key === 'maxBufferSize' ? bytes : Reflect.get(target, key, target)),
  });
  return { ...gpu, context: { ...gpu.context, limits } };
}
