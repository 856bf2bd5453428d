import WebSocket from 'ws';
import { resultMessageSchema, type ResultEnvelope } from '../../../shared/api/wire.ts';

/**
 * A bare WebSocket client of the host for tests and benches: it sends exactly what it is given (no
 * client-side validation) and hands back the envelope, the events, and how the connection closed.
 */
export class RawApiClient {
  readonly ws: WebSocket;
  readonly events: { event: string; payload: unknown; receivedAt: number }[] = [];
  readonly protocolErrors: unknown[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, (reply: ResultEnvelope) => void>();
  closeCode: number | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const [, resolve] of this.#pending)
        resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `connection closed (${code})` } });
      this.#pending.clear();
    });
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        type: string;
        id?: number;
        event?: string;
        payload?: unknown;
      };
      if (message.type === 'event') {
        this.events.push({ event: message.event!, payload: message.payload, receivedAt: Date.now() });
        return;
      }
      if (message.type === 'protocol-error') {
        this.protocolErrors.push(message);
        return;
      }
      const result = resultMessageSchema.parse(message);
      const { type: _type, id, ...envelope } = result;
      this.#pending.get(id)?.(envelope as ResultEnvelope);
      this.#pending.delete(id);
    });
  }

  static async connect(port: number, token: string): Promise<RawApiClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws?token=${token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new RawApiClient(ws);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one invoke; resolves with the reply, or a synthetic UNAVAILABLE on close or timeout. */
  invoke(method: unknown, params: unknown, timeoutMs = 30_000): Promise<ResultEnvelope> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `no reply within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.ws.send(JSON.stringify({ type: 'invoke', id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}
