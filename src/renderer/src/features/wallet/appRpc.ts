import { custom, RpcRequestError } from 'viem';
import { client } from '../../api/client.ts';

/**
 * JSON-RPC through the app (`chain.rpc`), not from the page to the endpoint: it works from a browser on
 * another machine (the headless host behind an SSH tunnel) and keeps the CSP free of RPC origins.
 */
export async function appRpc(method: string, params: unknown): Promise<unknown> {
  const list = Array.isArray(params) ? params : params === undefined ? [] : [params];
  const reply = await client.invoke('chain.rpc', { method, params: list });
  if ('error' in reply) {
    throw new RpcRequestError({
      body: { method, params: list },
      error: reply.error,
      url: 'xai-link:chain.rpc',
    });
  }
  return reply.result;
}

/** A viem/wagmi transport over appRpc. */
export const appRpcTransport = custom({ request: ({ method, params }) => appRpc(method, params) });
