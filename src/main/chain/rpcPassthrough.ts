import { ApiError } from '../../shared/api/errors.ts';
import type { RpcReply } from '../../shared/api/chain.ts';
import { isReceipt, persistIfDurable } from './chainState.ts';

/**
 * JSON-RPC for the wallet in the UI goes through the app (request `chain.rpc`) instead of straight from
 * the page to the RPC endpoint: the page then works from a browser on another machine (the headless host
 * behind an SSH tunnel, where anvil's port is not reachable), and the Content-Security-Policy need not
 * allow arbitrary RPC origins. Only the standard read/write namespaces pass; node-control methods
 * (anvil_*, hardhat_*, debug_*, admin_*, personal_*) never do, and evm_mine only on the embedded chain,
 * where the UI mines an empty block so that a commitment's age is seen on chain.
 */
const ALLOWED = /^(eth|net|web3)_[A-Za-z0-9_]+$/;
const EMBEDDED_ONLY = new Set(['evm_mine']);
const TIMEOUT_MS = 30_000;

export function isForwardable(method: string, embedded: boolean): boolean {
  return ALLOWED.test(method) || (embedded && EMBEDDED_ONLY.has(method));
}

let nextId = 1;

export async function forwardRpc(
  endpoint: { rpcUrl: string; embedded: boolean } | null,
  method: string,
  params: unknown[],
): Promise<RpcReply> {
  if (!endpoint) {
    throw new ApiError('UNAVAILABLE', 'The chain is not running.', {
      hint: 'Start the local chain on the Wallet page (or `xai-link chain start`), or configure an RPC network.',
    });
  }
  if (!isForwardable(method, endpoint.embedded)) {
    throw new ApiError('INVALID_PARAMS', `JSON-RPC method "${method}" is not forwarded by XAI-Link`, {
      field: 'method',
      hint: 'Only eth_*, net_* and web3_* methods pass (and evm_mine on the embedded chain).',
    });
  }
  let res: Response;
  try {
    res = await fetch(endpoint.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new ApiError('UNAVAILABLE', `The RPC endpoint does not answer: ${(e as Error).message}`, {
      hint: endpoint.embedded
        ? 'Start the local chain on the Wallet page.'
        : 'Check the RPC URL of the network.',
    });
  }
  const body = (await res.json().catch(() => null)) as {
    result?: unknown;
    error?: { code?: unknown; message?: unknown; data?: unknown };
  } | null;
  if (!body || typeof body !== 'object') {
    throw new ApiError(
      'UNAVAILABLE',
      `The RPC endpoint answered HTTP ${res.status} without a JSON-RPC reply.`,
    );
  }
  if (body.error) {
    return {
      error: {
        code: typeof body.error.code === 'number' ? body.error.code : -32603,
        message: typeof body.error.message === 'string' ? body.error.message : 'RPC error',
        ...(body.error.data === undefined ? {} : { data: body.error.data }),
      },
    };
  }
  // A wallet's transaction is saved with the embedded chain before the wallet hears it is mined.
  if (endpoint.embedded && isReceipt(method, body.result)) await persistIfDurable(endpoint.rpcUrl);
  return { result: body.result ?? null };
}
