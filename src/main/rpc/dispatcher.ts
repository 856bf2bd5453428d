import type { z } from 'zod';
import type { EntryPoint } from '../../shared/api/system.ts';
import type { ParsedParamsOf, RequestMap, RequestSpec } from '../../shared/api/contract.ts';
import {
  ApiError,
  apiRequests,
  invalidParams,
  isRequestName,
  type ApiRequests,
} from '../../shared/api/index.ts';
import type { ResultEnvelope } from '../../shared/api/wire.ts';
import { UserFileError } from '../util/readUserFile.ts';

/** Who is calling; handlers may use it for logging or to refuse what only one entry point may do. */
export interface CallContext {
  readonly entryPoint: EntryPoint;
}

export type HandlerFor<S extends RequestSpec> = (
  params: ParsedParamsOf<S>,
  ctx: CallContext,
) => Promise<z.input<S['result']>> | z.input<S['result']>;

export type HandlersFor<M extends RequestMap> = { [K in keyof M]: HandlerFor<M[K]> };

export type ApiHandlers = HandlersFor<ApiRequests>;

/**
 * Validates and routes every request from every entry point. Never throws: the caller gets an
 * envelope, so a bad request or a failing handler cannot take a transport down.
 */
export class Dispatcher {
  readonly #handlers: ApiHandlers;
  readonly #log: (message: string, error: unknown) => void;

  constructor(handlers: ApiHandlers, log: (message: string, error: unknown) => void = console.error) {
    this.#handlers = handlers;
    this.#log = log;
  }

  async invoke(method: unknown, params: unknown, ctx: CallContext): Promise<ResultEnvelope> {
    try {
      return { ok: true, result: await this.#invokeOrThrow(method, params, ctx) };
    } catch (e) {
      return { ok: false, error: toApiError(e, String(method), this.#log).toData() };
    }
  }

  async #invokeOrThrow(method: unknown, params: unknown, ctx: CallContext): Promise<unknown> {
    if (typeof method !== 'string' || !isRequestName(method)) {
      throw new ApiError('UNKNOWN_METHOD', `Unknown method ${JSON.stringify(method)}`, {
        hint: 'Check the method name against src/shared/api; client and app versions may differ.',
      });
    }
    const spec = apiRequests[method] as RequestSpec;
    const parsed = spec.params.safeParse(params ?? {});
    if (!parsed.success) throw invalidParams(`"${method}" request`, parsed.error);
    const handler = this.#handlers[method] as HandlerFor<RequestSpec>;
    const result = await handler(parsed.data, ctx);
    const checked = spec.result.safeParse(result);
    if (!checked.success) {
      throw new Error(`"${method}" returned a result that breaks the contract: ${checked.error.message}`);
    }
    return checked.data;
  }
}

function toApiError(e: unknown, method: string, log: (message: string, error: unknown) => void): ApiError {
  if (e instanceof ApiError) return e;
  // viem checks addresses strictly (EIP-55 checksum when mixed-case): a bad one came from the caller.
  if (e instanceof Error && e.name === 'InvalidAddressError') {
    return new ApiError('INVALID_PARAMS', `"${method}": ${e.message.split('\n')[0]}`, {
      hint: 'An address is 0x and 40 hexadecimal digits; in mixed case its EIP-55 checksum must hold (or write it all lower-case).',
    });
  }
  // BigInt() of a caller's text that is not a whole number (a field the schema left as free text).
  if (e instanceof SyntaxError && /to a BigInt/.test(e.message)) {
    return new ApiError('INVALID_PARAMS', `"${method}": ${e.message.slice(0, 200)}`, {
      hint: 'Numbers given as text (token ids, scores, amounts) must be whole decimal numbers.',
    });
  }
  // A file the caller named is missing, no regular file, too large or unreadable: the message says which.
  if (e instanceof UserFileError)
    return new ApiError(
      e.reason === 'missing' ? 'NOT_FOUND' : 'FAILED_PRECONDITION',
      `"${method}": ${e.message}`,
    );
  const resource = resourceError(e, method);
  if (resource) return resource;
  log(`"${method}" failed`, e);
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError('INTERNAL', `"${method}" failed: ${message}`, {
    hint: 'This is a bug in XAI-Link; the log has the details.',
  });
}

/**
 * The errno code of an error or of any error in its cause chain; libraries that wrap an fs error only in
 * their message (Helia's PutFailedError) are read from the message.
 */
function errnoCode(e: unknown): string | undefined {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 8; x = x.cause, depth++) {
    const code = (x as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code)) return code;
    const named = /\b(ENOSPC|EDQUOT|EROFS)\b/.exec(x.message)?.[1];
    if (named) return named;
  }
  return undefined;
}

/**
 * The machine, not XAI-Link, is at fault: a full or read-only disk. Writes are atomic (temp + rename), so
 * what was saved before is intact; the user needs to know what to free or fix, not that there is a bug.
 */
function resourceError(e: unknown, method: string): ApiError | null {
  const code = errnoCode(e);
  const detail = e instanceof Error ? e.message : String(e);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new ApiError('UNAVAILABLE', `"${method}" failed: the disk is full (${detail})`, {
      hint: 'Free some disk space (or move the data directory with --data-dir) and try again; what was saved before is intact.',
    });
  if (code === 'EROFS')
    return new ApiError('FAILED_PRECONDITION', `"${method}" failed: the disk is read-only (${detail})`, {
      hint: 'Make the data directory writable, or choose another one with --data-dir; nothing saved was changed.',
    });
  return null;
}
