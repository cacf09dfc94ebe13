/**
 * The engine's errors: a small closed set of codes, each with a message that says what to do.
 * They cross the worker boundary as plain data (`toErrorData`) and are rebuilt on the other side.
 */

export type ErrorCode =
  | 'webgpu-unavailable' // no adapter or device could be had
  | 'unsupported' // a buffer past the GPU's limit (detail.binding), or a browser feature (OPFS) missing
  | 'out-of-memory' // a GPU allocation failed
  | 'device-lost' // the GPU device went away mid-work
  | 'shader-compile' // a WGSL kernel failed to compile (a bug in the engine, with file:line)
  | 'bad-model' // config or weight files are malformed, inconsistent or absurd
  | 'bad-input' // a caller passed an invalid argument (CLI flags, settings)
  | 'download-failed' // the network or the hub failed after retries
  | 'unauthorized' // the hub refused: gated or private repo, missing or wrong token
  | 'not-found' // repo, revision or file does not exist
  | 'integrity-failed' // a file's bytes do not match its size or hash
  | 'quota-exceeded' // persistent storage is full
  | 'context-full' // the conversation no longer fits the model's context
  | 'cancelled' // the user stopped it
  | 'internal'; // a bug in the engine: the message says where

export interface ErrorData {
  code: ErrorCode;
  message: string;
  /** Extra facts for the UI (bytes needed, file name, HTTP status...). */
  detail?: Record<string, string | number | boolean>;
}

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: Record<string, string | number | boolean>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isEngineError(error: unknown, code?: ErrorCode): error is EngineError {
  return error instanceof EngineError && (code === undefined || error.code === code);
}

export function toErrorData(error: unknown): ErrorData {
  if (error instanceof EngineError) {
    return { code: error.code, message: error.message, ...(error.detail ? { detail: error.detail } : {}) };
  }
  if (error instanceof DOMException && error.name === 'AbortError') {
    return { code: 'cancelled', message: 'Stopped.' };
  }
  if (error instanceof DOMException && error.name === 'QuotaExceededError') {
    return { code: 'quota-exceeded', message: 'The browser refused to store more data: storage quota exceeded.' };
  }
  // Anything else is a bug in the engine; keep its message so it can be reported.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'internal', message: `Unexpected error: ${message}` };
}

export function fromErrorData(data: ErrorData): EngineError {
  return new EngineError(data.code, data.message, data.detail);
}
