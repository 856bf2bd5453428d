import { useEffect, useRef, useState } from 'react';
import { useConnection } from 'wagmi';
import type { AttestorRequestView } from '../../../../shared/api/chainlink.ts';
import { client } from '../../api/client.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';
import { shortAddress } from '../../util/format.ts';
import { LOCAL_CONNECTOR_ID } from '../wallet/localTestAccounts.ts';
import { useContracts } from '../wallet/WalletProvider.tsx';

const chainlinkApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    chainlinkStatus: build.query({
      queryFn: (lineageId: number) => invokeQuery('chainlink.status', { lineageId }),
      providesTags: ['Chain'],
    }),
  }),
});

/**
 * "Chainlink attestation" as a verifier option (issue 8), shown only when it is configured on this network
 * and the lineage counts the attestor among its verifiers. The request is sent by main from the embedded
 * chain's unlocked test account in use (the local chain signs; no key in the app).
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
  const status = chainlinkApi.useChainlinkStatusQuery(lineageId);
  const contracts = useContracts();
  const c = useConnection();
  const [request, setRequest] = useState<{ requestId: string } | null>(null);
  const [result, setResult] = useState<AttestorRequestView | null>(null);
  const [error, setError] = useState<string | null>(null);
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
          if (live) setError((e as Error).message);
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
  const devIndex = c.address
    ? contracts.devAccounts.findIndex((a) => a.toLowerCase() === c.address!.toLowerCase())
    : -1;
  const canSend = c.connector?.id === LOCAL_CONNECTOR_ID && devIndex >= 0;

  return (
    <div className="chainlink-option">
      <h3>Chainlink attestation</h3>
      <p className="muted small">
        The lineage counts the FunctionsAttestor{' '}
        <code title={s.attestor.address}>{shortAddress(s.attestor.address)}</code> as a verifier: a Chainlink
        Functions DON fetches the claim’s report and attestations by CID, checks them, and attests on chain.
        It costs the subscription LINK.
      </p>
      {canSend ? (
        <button
          type="button"
          className="secondary"
          disabled={busy || request !== null}
          onClick={() => {
            setBusy(true);
            setError(null);
            client
              .invoke('chainlink.request', { claim: { claimId }, signer: { devAccount: devIndex } })
              .then((r) => setRequest({ requestId: r.requestId }))
              .catch((e: unknown) => setError((e as Error).message))
              .finally(() => setBusy(false));
          }}
        >
          Request Chainlink attestation
        </button>
      ) : (
        <p className="muted small">
          Requests are sent from a local test account here; from another wallet use{' '}
          <code>xai-link chain functions-request</code>.
        </p>
      )}
      {result ? (
        <p role="status">
          Request {result.status}
          {result.status === 'failed' ? `: ${result.failure} ${result.detail}` : ''}
        </p>
      ) : request ? (
        <p role="status">Waiting for the DON…</p>
      ) : null}
      {error ? (
        <p role="alert" className="error-text">
          {error}
        </p>
      ) : null}
    </div>
  );
}
