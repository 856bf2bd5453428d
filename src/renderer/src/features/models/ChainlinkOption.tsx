import { useEffect, useRef, useState } from 'react';
import { parseEventLogs } from 'viem';
import { useConnection } from 'wagmi';
import type { AttestorRequestView } from '../../../../shared/api/chainlink.ts';
import { functionsAttestorAbi } from '../../../../shared/chain/abis.ts';
import { client } from '../../api/client.ts';
import { shortAddress } from '../../util/format.ts';
import { useChainlinkStatusQuery } from '../settings/chainlinkApi.ts';
import { LOCAL_CONNECTOR_ID } from '../wallet/localTestAccounts.ts';
import { useWalletActions } from '../wallet/useWalletActions.ts';
import { useContracts } from '../wallet/WalletProvider.tsx';
import { WalletActionError } from '../wallet/walletErrors.ts';
import { requestAttestationWrite } from './chainlinkRequestWrite.ts';

interface OptionError {
  message: string;
  hint?: string | undefined;
}

function asOptionError(e: unknown): OptionError {
  if (e && typeof e === 'object' && 'message' in e) {
    const x = e as { message: string; hint?: string };
    return { message: x.message, hint: x.hint };
  }
  return { message: String(e) };
}

/**
 * "Chainlink attestation" as a verifier option (issue 8), shown only when it is configured on this network
 * and the lineage counts the attestor among its verifiers. From a wallet (browser or WalletConnect) the
 * wallet signs and sends the request main describes (`chainlink.requestData`); from a local test account
 * main sends it with the embedded chain's unlocked account (`chainlink.request`). No key is in the app.
 */
export function ChainlinkOption({
  claimId,
  lineageId,
  onDone,
}: {
  claimId: string;
  lineageId: number;
  onDone: () => void;
}) {
  const status = useChainlinkStatusQuery({ lineageId });
  const contracts = useContracts();
  const c = useConnection();
  const { write } = useWalletActions();
  const [request, setRequest] = useState<{ requestId: string } | null>(null);
  const [result, setResult] = useState<AttestorRequestView | null>(null);
  const [error, setError] = useState<OptionError | null>(null);
  const [busy, setBusy] = useState(false);
  const done = useRef(onDone);
  useEffect(() => {
    done.current = onDone;
  }, [onDone]);

  useEffect(() => {
    if (!request) return;
    let live = true;
    const poll = async () => {
      while (live) {
        try {
          const r = await client.invoke('chainlink.result', { requestId: request.requestId });
          if (!live) return;
          setResult(r);
          if (r.status !== 'pending') {
            done.current();
            return;
          }
        } catch (e) {
          if (live) setError(asOptionError(e));
          return;
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    };
    void poll();
    return () => {
      live = false;
    };
  }, [request]);

  const s = status.data;
  if (!s || !s.configured || !s.lineage?.attestorIsVerifier || !s.attestor) return null;
  const attestor = s.attestor;
  const devIndex = c.address
    ? contracts.devAccounts.findIndex((a) => a.toLowerCase() === c.address!.toLowerCase())
    : -1;
  const fromLocalAccount = c.connector?.id === LOCAL_CONNECTOR_ID && devIndex >= 0;
  const fromWallet = Boolean(c.address) && c.connector !== undefined && c.connector.id !== LOCAL_CONNECTOR_ID;
  const mayRequest =
    attestor.openRequests ||
    (c.address !== undefined && c.address.toLowerCase() === attestor.owner.toLowerCase());

  const send = async (how: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    try {
      setRequest({ requestId: await how() });
    } catch (e) {
      setError(asOptionError(e));
    } finally {
      setBusy(false);
    }
  };

  const sendFromLocalAccount = () =>
    send(async () => {
      const r = await client.invoke('chainlink.request', {
        claim: { claimId },
        signer: { devAccount: devIndex },
      });
      return r.requestId;
    });

  const sendFromWallet = () =>
    send(async () => {
      const data = await client.invoke('chainlink.requestData', { claim: { claimId } });
      const receipt = await write(requestAttestationWrite(data));
      const [sent] = parseEventLogs({
        abi: functionsAttestorAbi,
        logs: receipt.logs,
        eventName: 'AttestationRequested',
      });
      if (!sent) {
        throw new WalletActionError(
          `The transaction ${receipt.transactionHash} was mined, but the attestor sent no request.`,
          { hint: 'Check the attestor with xai-link chain functions-status.' },
        );
      }
      return sent.args.requestId;
    });

  return (
    <div className="chainlink-option">
      <h3>Chainlink attestation</h3>
      <p className="muted small">
        The lineage counts the FunctionsAttestor{' '}
        <code title={attestor.address}>{shortAddress(attestor.address)}</code> as a verifier: a Chainlink
        Functions DON fetches the claim’s report and attestations by CID, checks them, and attests on chain.
        It costs the subscription LINK.
      </p>
      {fromLocalAccount || fromWallet ? (
        <>
          <p className="small">
            {fromWallet
              ? `Your wallet (${c.connector?.name ?? 'wallet'}) sends one transaction to the attestor, which asks the DON to check this claim; you confirm it there after reading what it does.`
              : 'The local test account in use sends the request to the attestor.'}
          </p>
          {!mayRequest ? (
            <p className="small" role="note">
              Only the attestor’s owner <code title={attestor.owner}>{shortAddress(attestor.owner)}</code> and
              the accounts it approved may send requests.
            </p>
          ) : null}
          <button
            type="button"
            className="secondary"
            disabled={busy || request !== null}
            onClick={() => void (fromWallet ? sendFromWallet() : sendFromLocalAccount())}
          >
            {fromWallet ? 'Request Chainlink attestation from your wallet' : 'Request Chainlink attestation'}
          </button>
        </>
      ) : (
        <p className="muted small">Connect a wallet on the Wallet page to send the request.</p>
      )}
      {result ? (
        <p role="status">
          Request {result.status}
          {result.status === 'failed' ? `: ${result.failure} ${result.detail}` : ''}
        </p>
      ) : request ? (
        <p role="status">
          Waiting for the DON… (request{' '}
          <code title={request.requestId}>{shortAddress(request.requestId)}</code>)
        </p>
      ) : null}
      {error ? (
        <div role="alert" className="error-text">
          <p>{error.message}</p>
          {error.hint ? <p className="hint">{error.hint}</p> : null}
        </div>
      ) : null}
    </div>
  );
}
