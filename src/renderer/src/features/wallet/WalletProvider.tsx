import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { SerializedError } from '@reduxjs/toolkit';
import type { Config } from '@wagmi/core';
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { WagmiProvider } from 'wagmi';
import type { ApiErrorData } from '../../../../shared/api/errors.ts';
import type { ContractsInfo } from '../../../../shared/api/chain.ts';
import type { Address } from 'viem';
import { ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { useSettingsQuery } from '../settings/settingsApi.ts';
import { useChainContractsQuery } from './chainApi.ts';
import { ConfirmProvider } from './ConfirmDialog.tsx';
import { buildWalletConfig } from './walletConfig.ts';

export type WalletState =
  | { status: 'loading' }
  | { status: 'error'; error: ApiErrorData | SerializedError | undefined; retry: () => void }
  | { status: 'ready'; config: Config; contracts: ContractsInfo };

const WalletStateContext = createContext<WalletState>({ status: 'loading' });

export function useWalletState(): WalletState {
  return useContext(WalletStateContext);
}

/** The chain details (addresses, domain) of a ready wallet; only inside <WalletGate>. */
export function useContracts(): ContractsInfo {
  const s = useWalletState();
  if (s.status !== 'ready') throw new Error('useContracts outside <WalletGate>');
  return s.contracts;
}

// One wagmi config per network (kept across page changes, so the connection survives navigation).
const configs = new Map<string, Config>();
function walletConfigFor(key: string, build: () => Config): Config {
  let config = configs.get(key);
  if (!config) {
    config = build();
    configs.set(key, config);
  }
  return config;
}
const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});

/**
 * Wraps the pages that use the chain. It asks main for the network's contracts (which starts the
 * embedded chain on first use, never at app start), builds the wagmi config for that network and
 * provides it, with the confirmation dialog every signature and transaction goes through.
 */
export function WalletProvider({ children }: { children: ReactNode }) {
  const contracts = useChainContractsQuery(undefined);
  const settings = useSettingsQuery(undefined);
  const wcId = settings.data?.walletConnectProjectId ?? '';
  const info = contracts.data;
  const key = info ? `${info.chainId}|${info.rpcUrl}|${info.devAccounts.join(',')}|${wcId}` : '';
  const config = useMemo(
    () =>
      info
        ? walletConfigFor(key, () =>
            buildWalletConfig(
              { chainId: info.chainId, rpcUrl: info.rpcUrl, devAccounts: info.devAccounts as Address[] },
              wcId,
            ),
          )
        : null,
    [key, info, wcId],
  );

  const state: WalletState =
    info && config
      ? { status: 'ready', config, contracts: info }
      : contracts.error
        ? { status: 'error', error: contracts.error, retry: () => void contracts.refetch() }
        : { status: 'loading' };

  if (state.status !== 'ready') {
    return <WalletStateContext.Provider value={state}>{children}</WalletStateContext.Provider>;
  }
  return (
    <WalletStateContext.Provider value={state}>
      <WagmiProvider config={state.config} reconnectOnMount>
        <QueryClientProvider client={queryClient}>
          <ConfirmProvider>{children}</ConfirmProvider>
        </QueryClientProvider>
      </WagmiProvider>
    </WalletStateContext.Provider>
  );
}

/** Shows its children (which may use wagmi hooks) once the chain and the wallet config are ready. */
export function WalletGate({ children, what = 'the chain' }: { children: ReactNode; what?: string }) {
  const s = useWalletState();
  if (s.status === 'loading') return <Loading what={`${what} (the local chain starts on first use)`} />;
  if (s.status === 'error') return <ErrorNotice error={s.error} onRetry={s.retry} />;
  return <>{children}</>;
}
