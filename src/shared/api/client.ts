import { ApiError, apiErrorDataSchema } from './errors.ts';
import type { EventName, EventPayload, RequestName, RequestParams, RequestResult, XaiApi } from './index.ts';
import type { ResultEnvelope } from './wire.ts';

type RawInvoke = (method: string, params: unknown) => Promise<ResultEnvelope>;
type AnyListener = (payload: unknown) => void;

/**
 * Turns a raw transport (IPC bridge, WebSocket, in-process dispatcher) into the typed XaiApi:
 * envelopes become results or thrown ApiErrors, events fan out to per-name listeners.
 */
export class ContractClient implements XaiApi {
  readonly #rawInvoke: RawInvoke;
  readonly #listeners = new Map<string, Set<AnyListener>>();

  constructor(rawInvoke: RawInvoke) {
    this.#rawInvoke = rawInvoke;
  }

  async invoke<M extends RequestName>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    const envelope = await this.#rawInvoke(method, params);
    if (envelope.ok) return envelope.result as RequestResult<M>;
    const parsed = apiErrorDataSchema.safeParse(envelope.error);
    throw parsed.success
      ? ApiError.fromData(parsed.data)
      : new ApiError('INTERNAL', `Malformed error from ${method}`);
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const l = listener as AnyListener;
    set.add(l);
    return () => set.delete(l);
  }

  /** Called by the transport for every event it receives. */
  dispatchEvent(event: string, payload: unknown): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (e) {
        console.error(`listener for ${event} failed`, e);
      }
    }
  }
}
