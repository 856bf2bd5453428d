import { z } from 'zod';
import { apiErrorDataSchema } from './errors.ts';

/**
 * The messages that carry the contract over a byte stream (the headless host's WebSocket).
 * Electron IPC carries the same invoke/result shapes, minus the framing.
 */
export const invokeMessageSchema = z.object({
  type: z.literal('invoke'),
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(200),
  params: z.unknown(),
});
export type InvokeMessage = z.infer<typeof invokeMessageSchema>;

export const resultEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: apiErrorDataSchema }),
]);
export type ResultEnvelope = z.infer<typeof resultEnvelopeSchema>;

export const resultMessageSchema = z.intersection(
  z.object({ type: z.literal('result'), id: z.number().int().nonnegative() }),
  resultEnvelopeSchema,
);
export type ResultMessage = z.infer<typeof resultMessageSchema>;

export const eventMessageSchema = z.object({
  type: z.literal('event'),
  event: z.string(),
  payload: z.unknown(),
});
export type EventMessage = z.infer<typeof eventMessageSchema>;

export const serverMessageSchema = z.union([resultMessageSchema, eventMessageSchema]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** The largest message the host accepts; anything bigger is refused before it is parsed. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Names of the Electron IPC channels that carry the contract. */
export const IPC_INVOKE_CHANNEL = 'xai:invoke';
export const IPC_EVENT_CHANNEL = 'xai:event';
