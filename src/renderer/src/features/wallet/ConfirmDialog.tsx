import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react';
import { Dialog } from '../../components/Dialog.tsx';

export interface ConfirmField {
  label: string;
  value: string;
  /** Shown in monospace (addresses, CIDs, hashes). */
  mono?: boolean;
}

export interface ConfirmRequest {
  kind: 'signature' | 'transaction';
  /** "Sign your improvement claim" */
  title: string;
  /** What it means, in plain words. */
  summary: string;
  fields: ConfirmField[];
  /** Who signs or pays. */
  account: string;
  /** "Local test account", "MetaMask", "WalletConnect"… */
  walletName: string;
  /** Local test accounts are signed by the local chain itself: this dialog is the approval. */
  localAccount: boolean;
}

type Confirm = (req: ConfirmRequest) => Promise<boolean>;

const ConfirmContext = createContext<Confirm | null>(null);

export function useConfirm(): Confirm {
  const c = useContext(ConfirmContext);
  if (!c) throw new Error('useConfirm outside <ConfirmProvider>');
  return c;
}

/**
 * Before anything is signed or sent, this dialog says in plain words what it is and lists every field of
 * the message (an Improvement or an Attestation: model, score, parent, nonce, deadline…), so that a
 * signature is never a blind one. With an external wallet the wallet asks again; with a local test
 * account this dialog is the only approval.
 */
export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [req, setReq] = useState<ConfirmRequest | null>(null);
  const resolver = useRef<((ok: boolean) => void) | null>(null);

  const confirm = useCallback<Confirm>(
    (r) =>
      new Promise<boolean>((resolve) => {
        resolver.current?.(false);
        resolver.current = resolve;
        setReq(r);
      }),
    [],
  );

  const finish = (ok: boolean) => {
    resolver.current?.(ok);
    resolver.current = null;
    setReq(null);
  };

  const verb = req?.kind === 'signature' ? 'Sign' : 'Send';
  return (
    <ConfirmContext.Provider value={confirm}>
      {children}
      <Dialog
        open={req !== null}
        title={req?.title ?? ''}
        onClose={() => finish(false)}
        wide
        footer={
          <>
            <button type="button" className="secondary" onClick={() => finish(false)}>
              Reject
            </button>
            <button type="button" onClick={() => finish(true)} data-testid="confirm-sign">
              {req?.localAccount ? verb : `Continue in ${req?.walletName ?? 'the wallet'}`}
            </button>
          </>
        }
      >
        {req ? (
          <div className="confirm" data-kind={req.kind}>
            <p className="confirm-summary">{req.summary}</p>
            <table
              className="table compact"
              aria-label={req.kind === 'signature' ? 'What you sign' : 'What you send'}
            >
              <tbody>
                {req.fields.map((f) => (
                  <tr key={f.label}>
                    <th scope="row">{f.label}</th>
                    <td className={f.mono ? 'mono small break' : undefined}>{f.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="muted small">
              {req.kind === 'signature' ? 'Signed by' : 'Sent from'} <code>{req.account}</code> (
              {req.walletName}).{' '}
              {req.localAccount
                ? 'This is a local test account of the embedded chain: its key is public and worthless elsewhere, and the local chain signs for it — the key never enters this app.'
                : `Your wallet will show the same ${req.kind === 'signature' ? 'message' : 'transaction'}; check it there before approving.`}
              {req.kind === 'signature' ? ' Signing costs nothing and sends nothing by itself.' : ''}
            </p>
          </div>
        ) : null}
      </Dialog>
    </ConfirmContext.Provider>
  );
}
