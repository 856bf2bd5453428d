import { apiEvents, isEventName, type EventName, type EventPayload } from '../../shared/api/index.ts';

export type EventListener = (event: EventName, payload: unknown) => void;

/**
 * The one place events leave the services. Payloads are validated against the contract here, so a
 * bug in a service shows up as an error at its source rather than as bad data in the UI.
 */
export class EventBus {
  readonly #listeners = new Set<EventListener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    if (!isEventName(event)) throw new Error(`Unknown event "${String(event)}": add it to src/shared/api`);
    const parsed = apiEvents[event].payload.safeParse(payload);
    if (!parsed.success) {
      throw new Error(`Event "${event}" payload does not match the contract: ${parsed.error.message}`);
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener(event, parsed.data);
      } catch (e) {
        console.error(`event listener failed for ${event}`, e);
      }
    }
  }

  /** Receives every event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Receives one event's payloads, typed. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.subscribe((name, payload) => {
      if (name === event) listener(payload as EventPayload<E>);
    });
  }
}
