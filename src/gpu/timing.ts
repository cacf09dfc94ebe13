/**
 * Timing of GPU work for the benchmark: timestamp queries around a compute pass where the device
 * has them (GPU time only), else the wall clock around submit and completion.
 */
import { USAGE, createBuffer } from './buffers';

export class PassTimer {
  private readonly querySet?: GPUQuerySet;
  private readonly resolve?: GPUBuffer;
  private readonly readback?: GPUBuffer;

  constructor(
    private readonly device: GPUDevice,
    readonly usesTimestamps: boolean,
  ) {
    if (usesTimestamps) {
      this.querySet = device.createQuerySet({ label: 'bench timestamps', type: 'timestamp', count: 2 });
      this.resolve = createBuffer(device, 'bench timestamps', 16, USAGE.QUERY_RESOLVE | USAGE.COPY_SRC);
      this.readback = createBuffer(device, 'bench timestamps read', 16, USAGE.MAP_READ | USAGE.COPY_DST);
    }
  }

  /** Milliseconds for one pass holding what `record` encodes. */
  async once(record: (pass: GPUComputePassEncoder) => void, before?: () => void): Promise<number> {
    before?.();
    const encoder = this.device.createCommandEncoder({ label: 'bench' });
    const pass = encoder.beginComputePass({
      label: 'bench',
      ...(this.querySet ? { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
    });
    record(pass);
    pass.end();
    if (this.querySet && this.resolve && this.readback) {
      encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
      encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
    }
    const start = performance.now();
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    const wall = performance.now() - start;
    if (!this.readback) return wall;
    await this.readback.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return Number(end - begin) / 1e6;
  }

  /** Median milliseconds per repetition of `record`, `inner` repetitions per pass. */
  async median(record: (pass: GPUComputePassEncoder) => void, options: { samples?: number; inner?: number; warmup?: number } = {}): Promise<number> {
    const { samples = 7, inner = 1, warmup = 1 } = options;
    const repeated = (pass: GPUComputePassEncoder) => {
      for (let i = 0; i < inner; i++) record(pass);
    };
    for (let i = 0; i < warmup; i++) await this.once(repeated);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) times.push((await this.once(repeated)) / inner);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
    this.readback?.destroy();
  }
}
