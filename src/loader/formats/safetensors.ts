/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON, then the data region.
 * Each JSON entry is `name: {dtype, shape, data_offsets: [begin, end]}` with offsets relative to
 * the data region; `__metadata__` holds free-form strings.
 * Spec: huggingface/safetensors README ("Format"); the limits (header at most 100 MB, offsets
 * inside the data region, no overlap) follow its Rust reference implementation's validation.
 * Only the header is read: two small range reads, whatever the shard's size.
 */

import { SOURCE_DTYPE_BYTES, type FileSource, type SourceDtype, type TensorRecord } from '../types';
import { ByteCursor, badModel, decodeUtf8, elementCount, isNonNegativeSafeInteger } from './binary';

/** The reference implementation refuses headers above 100 MB; so do we, before allocating. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

export async function readSafetensorsHeader(
  source: FileSource,
  file: string,
  signal?: AbortSignal,
): Promise<TensorRecord[]> {
  const fileSize = await source.size(file, signal);
  if (fileSize === null) throw badModel(`${file} is missing from ${source.description}`, { file });
  if (fileSize < 8) {
    throw badModel(`${file} is ${fileSize} bytes long, too short to be a safetensors file (truncated?)`, { file });
  }

  const lengthBytes = await source.read(file, 0, 8, signal);
  // Read as two words so that an absurd length is reported, not rounded.
  const prefix = new ByteCursor(lengthBytes, `${file}: header length`);
  const low = prefix.u32();
  const high = prefix.u32();
  const headerLength = high === 0 ? low : Infinity;
  if (headerLength > MAX_SAFETENSORS_HEADER_BYTES) {
    const shown = high === 0 ? String(low) : `${high} * 2^32 + ${low}`;
    throw badModel(
      `${file}: header length ${shown} is larger than the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit; the file is not safetensors or is corrupt`,
      { file },
    );
  }
  if (headerLength < 2) {
    throw badModel(`${file}: header length ${headerLength} is too small to hold a JSON object`, { file });
  }
  if (8 + headerLength > fileSize) {
    throw badModel(
      `${file}: header length ${headerLength} runs past the end of the ${fileSize}-byte file; the file is truncated`,
      { file },
    );
  }

  const headerBytes = await source.read(file, 8, headerLength, signal);
  const headerText = decodeUtf8(headerBytes, `${file}: header`);
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    throw badModel(`${file}: header is not valid JSON (${(error as Error).message})`, { file });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw badModel(`${file}: header is not a JSON object`, { file });
  }

  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  const records: TensorRecord[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    records.push(parseEntry(file, name, entry, dataStart, dataSize));
  }
  checkNoOverlap(file, records);
  return records;
}

function parseEntry(file: string, name: string, entry: unknown, dataStart: number, dataSize: number): TensorRecord {
  const where = `${file}: tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw badModel(`${where} is not a JSON object`, { file, tensor: name });
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw badModel(`${where} has no dtype`, { file, tensor: name });
  if (!Object.hasOwn(SOURCE_DTYPE_BYTES, dtype)) {
    throw badModel(`${where} has dtype ${dtype}; only F32, F16 and BF16 checkpoints are supported`, {
      file,
      tensor: name,
      dtype,
    });
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw badModel(`${where} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`, {
      file,
      tensor: name,
    });
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    throw badModel(`${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`, {
      file,
      tensor: name,
    });
  }
  const [begin, end] = offsets as [number, number];
  const elementSize = SOURCE_DTYPE_BYTES[dtype as SourceDtype];
  const count = elementCount(shape);
  const byteLength = count === null ? null : count * elementSize;
  if (byteLength === null || !Number.isSafeInteger(byteLength) || end - begin !== byteLength) {
    throw badModel(
      `${where}: shape [${shape.join(', ')}] of ${dtype} needs ${byteLength ?? 'too many'} bytes ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
      { file, tensor: name },
    );
  }
  if (end > dataSize) {
    throw badModel(
      `${where}: data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data region; the file is truncated or corrupt`,
      { file, tensor: name },
    );
  }
  return { name, dtype: dtype as SourceDtype, shape: [...shape], file, offset: dataStart + begin, byteLength };
}

/** Two tensors sharing bytes would mean one of them is garbage; empty tensors own no bytes. */
function checkNoOverlap(file: string, records: TensorRecord[]): void {
  const sorted = records.filter((record) => record.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    if (sorted[i].offset < previous.offset + previous.byteLength) {
      throw badModel(`${file}: tensors "${previous.name}" and "${sorted[i].name}" overlap in the data region`, {
        file,
      });
    }
  }
}

export interface TensorToEncode {
  name: string;
  dtype: SourceDtype;
  shape: number[];
  /** Raw little-endian element bytes, row-major. */
  data: Uint8Array;
}

/**
 * Writes a safetensors file (for tests and fixtures). Tensors are laid out in the given order;
 * the header is padded with spaces to a multiple of 8 bytes, as the reference writer does, so
 * that the data region starts aligned.
 */
export function encodeSafetensors(tensors: TensorToEncode[], metadata?: Record<string, string>): Uint8Array {
  // A null-prototype object keeps a tensor named `__proto__` an ordinary key.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const expected = (elementCount(tensor.shape) ?? NaN) * SOURCE_DTYPE_BYTES[tensor.dtype];
    if (tensor.data.length !== expected) {
      throw new Error(`encodeSafetensors: "${tensor.name}" has ${tensor.data.length} bytes, shape needs ${expected}`);
    }
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const tensor of tensors) {
    out.set(tensor.data, at);
    at += tensor.data.length;
  }
  return out;
}
