import { createAction } from '@reduxjs/toolkit';
import type { EventName, EventPayload } from '../../../shared/api/index.ts';

/** Every contract event enters the store as this one action; slices pick the events they keep. */
export const apiEventReceived = createAction<{ event: string; payload: unknown }>('api/eventReceived');

/** Narrows an apiEventReceived action to one event, typed. */
export function isApiEvent<E extends EventName>(
  action: ReturnType<typeof apiEventReceived>,
  event: E,
): action is ReturnType<typeof apiEventReceived> & { payload: { event: E; payload: EventPayload<E> } } {
  return action.payload.event === event;
}
