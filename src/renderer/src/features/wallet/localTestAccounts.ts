import { createConnector } from '@wagmi/core';
import { appRpc } from './appRpc.ts';
import {
  getAddress,
  numberToHex,
  SwitchChainError,
  UserRejectedRequestError,
  type Address,
  type EIP1193RequestFn,
} from 'viem';

export const LOCAL_CONNECTOR_ID = 'xai-local-test-accounts';
const STORAGE_KEY = 'xai-link.localTestAccount';

interface Provider {
  request: EIP1193RequestFn;
}

/**
 * The embedded chain's development accounts as a wallet. anvil keeps these accounts unlocked and answers
 * eth_sendTransaction and eth_signTypedData_v4 for them itself, so this connector only forwards JSON-RPC to
 * anvil (through the app): no private key is ever in the renderer. They are public test keys, worthless outside
 * the local chain; the UI says so wherever they appear.
 *
 * (The same idea as wagmi's `mock` connector, with the account chosen in the UI and remembered.)
 */
export function localTestAccounts(params: { rpcUrl: string; chainId: number; accounts: readonly Address[] }) {
  let index = readIndex(params.accounts.length);
  let connected = localStorage.getItem(`${STORAGE_KEY}.connected`) === '1';
  let emit: ((accounts: readonly Address[]) => void) | null = null;

  const current = (): Address => getAddress(params.accounts[index]!);

  // anvil answers for its unlocked accounts; the call goes through the app (see appRpc.ts).
  const forward = (method: string, rpcParams: unknown): Promise<unknown> => appRpc(method, rpcParams ?? []);

  const request = (async ({ method, params: p }: { method: string; params?: unknown }) => {
    switch (method) {
      case 'eth_accounts':
      case 'eth_requestAccounts':
        return connected || method === 'eth_requestAccounts' ? [current()] : [];
      case 'eth_chainId':
        return numberToHex(params.chainId);
      case 'wallet_switchEthereumChain': {
        const wanted = Number((p as [{ chainId: string }])[0].chainId);
        if (wanted !== params.chainId) throw new SwitchChainError(new Error(`only chain ${params.chainId}`));
        return null;
      }
      case 'eth_sendTransaction': {
        const tx = (p as [{ from?: string }])[0];
        if (tx.from && getAddress(tx.from) !== current()) {
          throw new UserRejectedRequestError(new Error('the transaction is not from the selected account'));
        }
        return forward(method, [{ ...tx, from: current() }]);
      }
      case 'eth_signTypedData_v4': {
        const [signer] = p as [string, unknown];
        if (getAddress(signer) !== current()) {
          throw new UserRejectedRequestError(new Error('the signature is not asked of the selected account'));
        }
        return forward(method, p);
      }
      default:
        return forward(method, p);
    }
  }) as EIP1193RequestFn;

  const provider: Provider = { request };

  return createConnector<Provider, { selectAccount(index: number): void; accountIndex(): number }>(
    (config) => {
      emit = (accounts) => config.emitter.emit('change', { accounts });
      return {
        id: LOCAL_CONNECTOR_ID,
        name: 'Local test account',
        type: 'localTestAccounts',
        async connect({ withCapabilities } = {}) {
          connected = true;
          localStorage.setItem(`${STORAGE_KEY}.connected`, '1');
          const address = current();
          return {
            accounts: (withCapabilities ? [{ address, capabilities: {} }] : [address]) as never,
            chainId: params.chainId,
          };
        },
        async disconnect() {
          connected = false;
          localStorage.removeItem(`${STORAGE_KEY}.connected`);
        },
        async getAccounts() {
          return connected ? [current()] : [];
        },
        async getChainId() {
          return params.chainId;
        },
        async getProvider() {
          return provider;
        },
        async isAuthorized() {
          return connected;
        },
        async switchChain({ chainId }) {
          const chain = config.chains.find((c) => c.id === chainId);
          if (!chain || chainId !== params.chainId) {
            throw new SwitchChainError(new Error('local test accounts exist only on the embedded chain'));
          }
          return chain;
        },
        onAccountsChanged(accounts) {
          if (accounts.length === 0) this.onDisconnect();
          else config.emitter.emit('change', { accounts: accounts.map((a) => getAddress(a)) });
        },
        onChainChanged(chain) {
          config.emitter.emit('change', { chainId: Number(chain) });
        },
        onDisconnect() {
          connected = false;
          config.emitter.emit('disconnect');
        },
        selectAccount(i: number) {
          if (i < 0 || i >= params.accounts.length) return;
          index = i;
          localStorage.setItem(STORAGE_KEY, String(i));
          if (connected) emit?.([current()]);
        },
        accountIndex() {
          return index;
        },
      };
    },
  );
}

function readIndex(count: number): number {
  const n = Number(localStorage.getItem(STORAGE_KEY) ?? '0');
  return Number.isInteger(n) && n >= 0 && n < count ? n : 0;
}
