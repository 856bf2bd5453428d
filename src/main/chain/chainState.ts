/**
 * The embedded chain's state on disk, made as durable as what the app tells the user. anvil keeps the chain
 * in memory and writes its `--state` file only on a clean stop and every `--state-interval` seconds (30
 * here): a crash of the app (and so of its anvil) lost every transaction since the last write, mints and
 * deployments included; and anvil refuses to start from a damaged state file, so one kept the chain down.
 *
 * Instead, XAI-Link writes the state itself: the dump anvil answers to `anvil_dumpState` (gzip of the same
 * JSON as `--state`), atomically (temp file, fsync, rename), each time the app sees a transaction receipt on
 * the embedded chain (before it acknowledges the transaction), and before it stops anvil. anvil only loads it
 * (`--load-state`). A state file that does not parse is set aside, with a message, instead of blocking the
 * start.
 */
import { readFileSync, renameSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { http, type HttpTransportConfig, type Transport } from 'viem';
import { writeFileAtomic } from '../util/atomicWrite.ts';

/** rpcUrl of an embedded chain → writes its state file. */
const durable = new Map<string, () => Promise<void>>();

/** From now on, a receipt seen on `rpcUrl` (through `chainTransport` or the RPC pass-through) is saved first. */
export function registerDurableChain(rpcUrl: string, persist: () => Promise<void>): void {
  durable.set(rpcUrl, persist);
}

export function unregisterDurableChain(rpcUrl: string): void {
  durable.delete(rpcUrl);
}

/** Saves the embedded chain behind `rpcUrl`, if it is one; a no-op for any other endpoint. */
export async function persistIfDurable(rpcUrl: string): Promise<void> {
  await durable.get(rpcUrl)?.();
}

/** Whether a JSON-RPC answer tells the caller that a transaction is in a block. */
export function isReceipt(method: string, result: unknown): boolean {
  return method === 'eth_getTransactionReceipt' && result !== null && result !== undefined;
}

/**
 * viem's http transport, which on an embedded chain writes the chain's state before it hands a transaction
 * receipt to the caller: once the app has seen a receipt (and may tell the user), a crash no longer loses it.
 */
export function chainTransport(rpcUrl: string, config: HttpTransportConfig = {}): Transport {
  const inner = http(rpcUrl, config);
  return (params) => {
    const base = inner(params);
    const request = (async (args: { method: string }, options?: unknown) => {
      const result: unknown = await base.request(args as never, options as never);
      if (isReceipt(args.method, result)) await persistIfDurable(rpcUrl);
      return result;
    }) as typeof base.request;
    return { ...base, request };
  };
}

/** Writes anvil's current state to `stateFile`, atomically. */
export async function dumpChainState(rpcUrl: string, stateFile: string): Promise<void> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_dumpState', params: [] }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { result?: string; error?: { message: string } };
  if (typeof body.result !== 'string')
    throw new Error(`anvil_dumpState: ${body.error?.message ?? 'no result'}`);
  const bytes = Buffer.from(body.result.replace(/^0x/, ''), 'hex');
  // gzip (anvil 1.x); older versions answered the JSON itself.
  const json = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  JSON.parse(json.toString('utf8'));
  await writeFileAtomic(stateFile, json);
}

/**
 * The state file to start anvil from: `stateFile` if it holds a whole state, else undefined (no file, or a
 * damaged one, which is renamed to `<stateFile>.broken-<time>` and reported).
 */
export function usableStateFile(stateFile: string, warn: (message: string) => void): string | undefined {
  let raw: string;
  try {
    raw = readFileSync(stateFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(raw) as unknown;
    if (typeof state !== 'object' || state === null || !('block' in state))
      throw new Error('not an anvil state');
    return stateFile;
  } catch (e) {
    const aside = `${stateFile}.broken-${Date.now()}`;
    renameSync(stateFile, aside);
    warn(
      `the embedded chain's state file was damaged (${(e as Error).message.split('\n')[0]}); ` +
        `kept it as ${aside} and started the chain without it (the contracts are deployed again).`,
    );
    return undefined;
  }
}
