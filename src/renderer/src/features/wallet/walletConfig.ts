import { createConfig, injected, type Config, type CreateConnectorFn } from '@wagmi/core';
import { appRpcTransport } from './appRpc.ts';
import { walletConnect } from '@wagmi/connectors/walletConnect';
import { defineChain, type Address, type Chain } from 'viem';
import { sepolia } from 'viem/chains';
import { EMBEDDED_CHAIN_ID } from '../../../../shared/chain/deployment.ts';
import { localTestAccounts } from './localTestAccounts.ts';

export interface WalletNetwork {
  chainId: number;
  rpcUrl: string;
  /** anvil's unlocked accounts (embedded chain only). */
  devAccounts: readonly Address[];
}

/** The chain the app is configured for (embedded anvil, Sepolia, or another RPC network), as viem describes it. */
export function chainFor(net: WalletNetwork): Chain {
  if (net.chainId === sepolia.id) {
    return { ...sepolia, rpcUrls: { default: { http: [net.rpcUrl] } } };
  }
  return defineChain({
    id: net.chainId,
    name: net.chainId === EMBEDDED_CHAIN_ID ? 'XAI-Link local chain' : `Chain ${net.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [net.rpcUrl] } },
    testnet: true,
  });
}

/**
 * The wagmi configuration for the network the app uses: one chain, read through its RPC URL, and the
 * wallets that can sign for it — the local test accounts (embedded chain), a browser wallet when the page
 * has one, and WalletConnect when a project id is set in Settings.
 */
export function buildWalletConfig(net: WalletNetwork, walletConnectProjectId: string): Config {
  const chain = chainFor(net);
  const connectors: CreateConnectorFn[] = [];
  if (net.devAccounts.length > 0) {
    connectors.push(
      localTestAccounts({ rpcUrl: net.rpcUrl, chainId: net.chainId, accounts: net.devAccounts }),
    );
  }
  connectors.push(injected({ shimDisconnect: true }));
  if (walletConnectProjectId) {
    connectors.push(
      walletConnect({
        projectId: walletConnectProjectId,
        showQrModal: false,
        metadata: {
          name: 'XAI-Link',
          description: 'Train GPT models, prove improvements, mint them.',
          url: location.origin.startsWith('http') ? location.origin : 'https://xai-link.local',
          icons: [],
        },
      }),
    );
  }
  return createConfig({
    chains: [chain],
    connectors,
    transports: { [chain.id]: appRpcTransport },
    // The local chain mines instantly; public networks need patience.
    pollingInterval: net.chainId === EMBEDDED_CHAIN_ID ? 500 : 4000,
  });
}
