/**
 * The one API contract between the renderer (or the CLI, or a browser on the headless host) and
 * the main-process services. Each domain lives in its own file; this file only joins them.
 */
import { chainEvents, chainRequests } from './chain.ts';
import { chainlinkRequests } from './chainlink.ts';
import { claimsRequests } from './claims.ts';
import type { EventMap, ParamsOf, PayloadOf, RequestMap, ResultOf } from './contract.ts';
import { datasetsRequests } from './datasets.ts';
import { evalRequests } from './eval.ts';
import { ipfsRequests } from './ipfs.ts';
import { jobsEvents, jobsRequests } from './jobs.ts';
import { pipelinesRequests } from './pipelines.ts';
import { runsEvents, runsRequests } from './runs.ts';
import { settingsRequests } from './settings.ts';
import { systemRequests } from './system.ts';
import { verifierNetworkRequests } from './verifierNetwork.ts';

export const apiRequests = {
  ...systemRequests,
  ...settingsRequests,
  ...jobsRequests,
  ...runsRequests,
  ...chainRequests,
  ...chainlinkRequests,
  ...ipfsRequests,
  ...datasetsRequests,
  ...evalRequests,
  ...claimsRequests,
  ...pipelinesRequests,
  ...verifierNetworkRequests,
} satisfies RequestMap;

export const apiEvents = {
  ...jobsEvents,
  ...runsEvents,
  ...chainEvents,
} satisfies EventMap;

export type ApiRequests = typeof apiRequests;
export type ApiEvents = typeof apiEvents;
export type RequestName = keyof ApiRequests & string;
export type EventName = keyof ApiEvents & string;
export type RequestParams<M extends RequestName> = ParamsOf<ApiRequests[M]>;
export type RequestResult<M extends RequestName> = ResultOf<ApiRequests[M]>;
export type EventPayload<E extends EventName> = PayloadOf<ApiEvents[E]>;

export function isRequestName(name: string): name is RequestName {
  return Object.prototype.hasOwnProperty.call(apiRequests, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(apiEvents, name);
}

/** What every client (preload bridge, WebSocket client, in-process CLI client) offers. */
export interface XaiApi {
  invoke<M extends RequestName>(method: M, params: RequestParams<M>): Promise<RequestResult<M>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

export * from './errors.ts';
export type * from './contract.ts';
