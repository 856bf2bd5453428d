import type { z } from 'zod';

/**
 * The building blocks of the API contract. A request is a params schema and a result schema;
 * an event is a payload schema. Main validates every request's params before a handler sees them,
 * and every event's payload before it leaves; the renderer trusts only what those schemas allow.
 */
export interface RequestSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly description: string;
  readonly params: P;
  readonly result: R;
}

export interface EventSpec<T extends z.ZodType = z.ZodType> {
  readonly description: string;
  readonly payload: T;
}

export function request<P extends z.ZodType, R extends z.ZodType>(
  spec: RequestSpec<P, R>,
): RequestSpec<P, R> {
  return spec;
}

export function event<T extends z.ZodType>(spec: EventSpec<T>): EventSpec<T> {
  return spec;
}

export type RequestMap = Record<string, RequestSpec>;
export type EventMap = Record<string, EventSpec>;

/** What a caller passes (before defaults are applied). */
export type ParamsOf<S extends RequestSpec> = z.input<S['params']>;
/** What a handler receives (after parsing: defaults applied). */
export type ParsedParamsOf<S extends RequestSpec> = z.output<S['params']>;
export type ResultOf<S extends RequestSpec> = z.output<S['result']>;
export type PayloadOf<S extends EventSpec> = z.output<S['payload']>;
