/**
 * Errors in the OpenAI API's shape, `{"error": {"message", "type", "param", "code"}}`, with the
 * HTTP status `serve` answers them with (the library rejects with the same ApiError). Engine
 * errors (errors.ts's closed set) map onto them here, in one place.
 */
import { isEngineError, toErrorData, type ErrorCode } from '../errors';
import type { ErrorBody } from './types';

export type ApiErrorType = 'invalid_request_error' | 'rate_limit_error' | 'server_error';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  toJSON(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: a field is missing, of the wrong type or out of range; `param` names it. */
export function invalidRequest(message: string, param: string | null, code: string | null = null): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

export function modelNotFound(model: string): ApiError {
  return new ApiError(404, `The model \`${model}\` does not exist: this engine serves the models GET /v1/models lists.`, 'invalid_request_error', 'model', 'model_not_found');
}

/** Engine codes a request can cause (400); the rest are the server's trouble (500, 503). */
const STATUS: Partial<Record<ErrorCode, [number, ApiErrorType, string]>> = {
  'bad-input': [400, 'invalid_request_error', 'invalid_value'],
  'context-full': [400, 'invalid_request_error', 'context_length_exceeded'],
  'not-found': [404, 'invalid_request_error', 'model_not_found'],
  'device-lost': [503, 'server_error', 'device_lost'],
  'out-of-memory': [503, 'server_error', 'out_of_memory'],
};

/**
 * Any failure as an ApiError: an ApiError as it is, an engine error by its code, anything else a
 * 500. `input`: the field a too-long input came in (`messages` or `prompt`).
 */
export function toApiError(error: unknown, input = 'messages'): ApiError {
  if (error instanceof ApiError) return error;
  const data = toErrorData(error);
  const [status, type, code] = STATUS[data.code] ?? [500, 'server_error', data.code.replaceAll('-', '_')];
  const param = isEngineError(error, 'context-full') ? input : null;
  return new ApiError(status, data.message, type, param, code);
}

/** The rejection an aborted request gets, as fetch's. */
export function abortError(): DOMException {
  return new DOMException('The request was aborted.', 'AbortError');
}

export function isAbort(error: unknown): boolean {
  return (error instanceof DOMException && error.name === 'AbortError') || isEngineError(error, 'cancelled');
}
