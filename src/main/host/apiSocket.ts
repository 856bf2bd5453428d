import type { WebSocket } from 'ws';
import { ApiError, invalidParams } from '../../shared/api/errors.ts';
import { invokeMessageSchema, type ServerMessage } from '../../shared/api/wire.ts';
import type { Dispatcher } from '../rpc/dispatcher.ts';

/** Requests one connection may have waiting for a reply; more are refused (typed UNAVAILABLE), not queued. */
export const MAX_IN_FLIGHT_PER_CONNECTION = 64;
/**
 * Bytes a connection may leave unread before it is dropped: a client that stopped reading would otherwise
 * make the host buffer every metric event for it without bound.
 */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** RFC 6455 close codes the host uses. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  invalidData: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
} as const;

export type ProtocolErrorMessage = { type: 'protocol-error'; error: unknown };
export type HostLog = (message: string) => void;

/**
 * One client's WebSocket: every way it can fail ends at this connection. ws itself closes the connection
 * with the right code on a bad frame (1009 too big, 1007 invalid UTF-8, 1002 bad opcode or close code) and
 * then emits 'error'; without a listener that 'error' would be thrown and end the whole process.
 */
export class ApiSocket {
  readonly #ws: WebSocket;
  readonly #dispatcher: Dispatcher;
  readonly #log: HostLog;
  readonly #name: string;
  #inFlight = 0;

  constructor(ws: WebSocket, dispatcher: Dispatcher, log: HostLog, name: string) {
    this.#ws = ws;
    this.#dispatcher = dispatcher;
    this.#log = log;
    this.#name = name;
    ws.on('error', (e: Error & { code?: string }) => {
      log(`${name}: closed after a ${e.code ?? 'socket'} error: ${e.message}`);
    });
    ws.on('message', (data, isBinary) => {
      this.#handle(data as Buffer, isBinary).catch((e: unknown) => {
        // The dispatcher never throws; this is the reply itself failing (e.g. unserialisable).
        log(`${name}: could not answer a request: ${e instanceof Error ? e.message : String(e)}`);
      });
    });
  }

  get open(): boolean {
    return this.#ws.readyState === this.#ws.OPEN;
  }

  /** Sends one message (a result or an event) unless the connection is gone or has stopped reading. */
  send(message: ServerMessage | ProtocolErrorMessage | string): void {
    if (!this.open) return;
    if (this.#ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#log(`${this.#name}: dropped, it left more than ${MAX_BUFFERED_BYTES} bytes unread`);
      this.#ws.close(CLOSE_CODES.policyViolation, 'too slow: messages were not read');
      return;
    }
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    this.#ws.send(text, (e) => {
      if (e) this.#log(`${this.#name}: send failed: ${e.message}`);
    });
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  async #handle(data: Buffer, isBinary: boolean): Promise<void> {
    let raw: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not part of the protocol; send JSON text');
      raw = JSON.parse(data.toString('utf8'));
    } catch (e) {
      this.send({
        type: 'protocol-error',
        error: new ApiError('INVALID_PARAMS', `Unreadable message: ${(e as Error).message}`).toData(),
      });
      return;
    }
    const parsed = invokeMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      const error = invalidParams('message', parsed.error).toData();
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0)
        this.send({ type: 'result', id, ok: false, error });
      else this.send({ type: 'protocol-error', error });
      return;
    }
    const { id, method, params } = parsed.data;
    if (this.#inFlight >= MAX_IN_FLIGHT_PER_CONNECTION) {
      const error = new ApiError(
        'UNAVAILABLE',
        `Too many requests in flight on this connection (${MAX_IN_FLIGHT_PER_CONNECTION})`,
        { hint: 'Wait for replies before sending more requests.' },
      );
      this.send({ type: 'result', id, ok: false, error: error.toData() });
      return;
    }
    this.#inFlight += 1;
    try {
      const envelope = await this.#dispatcher.invoke(method, params, { entryPoint: 'host' });
      this.#sendResult(id, envelope);
    } finally {
      this.#inFlight -= 1;
    }
  }

  #sendResult(id: number, envelope: Awaited<ReturnType<Dispatcher['invoke']>>): void {
    let text: string;
    try {
      text = JSON.stringify({ type: 'result', id, ...envelope });
    } catch (e) {
      const error = new ApiError('INTERNAL', `The result could not be serialised: ${(e as Error).message}`, {
        hint: 'This is a bug in XAI-Link; the log has the details.',
      });
      this.#log(`${this.#name}: result of request ${id} not serialisable: ${(e as Error).message}`);
      text = JSON.stringify({ type: 'result', id, ok: false, error: error.toData() });
    }
    this.send(text);
  }
}
