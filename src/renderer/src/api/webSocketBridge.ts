import type { XaiBridge } from '../../../shared/api/bridge.ts';
import { serverMessageSchema, type ResultEnvelope } from '../../../shared/api/wire.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

interface Pending {
  resolve: (envelope: ResultEnvelope) => void;
}

/**
 * The bridge the renderer uses when it runs in a browser on the headless host: the same XaiBridge
 * the Electron preload exposes, over a WebSocket. The access token travels in the host's HttpOnly
 * cookie, so this code never sees it. Reconnects with backoff; calls made while disconnected fail
 * with an UNAVAILABLE error instead of hanging.
 */
export class WebSocketBridge implements XaiBridge {
  readonly runtime = { electron: '', chromium: chromiumVersion(), node: '' };
  readonly #url: string;
  readonly #pending = new Map<number, Pending>();
  readonly #eventListeners = new Set<(event: string, payload: unknown) => void>();
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  #socket: WebSocket | null = null;
  #opened: Promise<void> | null = null;
  #nextId = 1;
  #retryMs = 250;
  #state: ConnectionState = 'connecting';

  constructor(url: string) {
    this.#url = url;
    this.#connect();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  async invoke(method: string, params: unknown): Promise<ResultEnvelope> {
    try {
      await this.#opened;
    } catch {
      return unavailable();
    }
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return unavailable();
    const id = this.#nextId++;
    return new Promise<ResultEnvelope>((resolve) => {
      this.#pending.set(id, { resolve });
      socket.send(JSON.stringify({ type: 'invoke', id, method, params }));
    });
  }

  onEvent(listener: (event: string, payload: unknown) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    for (const l of this.#stateListeners) l(state);
  }

  #connect(): void {
    this.#setState('connecting');
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    this.#opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => {
        this.#retryMs = 250;
        this.#setState('open');
        resolve();
      });
      socket.addEventListener('close', () => reject(new Error('closed')));
    });
    this.#opened.catch(() => undefined);
    socket.addEventListener('message', (e) => this.#onMessage(e.data));
    socket.addEventListener('close', () => {
      for (const p of this.#pending.values()) p.resolve(unavailable());
      this.#pending.clear();
      this.#setState('closed');
      setTimeout(() => this.#connect(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 5000);
    });
  }

  #onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = serverMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (msg.type === 'event') {
      for (const l of this.#eventListeners) l(msg.event, msg.payload);
      return;
    }
    const pending = this.#pending.get(msg.id);
    if (!pending) return;
    this.#pending.delete(msg.id);
    pending.resolve(msg.ok ? { ok: true, result: msg.result } : { ok: false, error: msg.error });
  }
}

function unavailable(): ResultEnvelope {
  return {
    ok: false,
    error: {
      code: 'UNAVAILABLE',
      message: 'Not connected to the XAI-Link host.',
      hint: 'Check that "xai-link serve" is still running; the page reconnects by itself.',
    },
  };
}

function chromiumVersion(): string {
  const match = /Chrom(?:e|ium)\/([\d.]+)/.exec(navigator.userAgent);
  return match?.[1] ?? '';
}
