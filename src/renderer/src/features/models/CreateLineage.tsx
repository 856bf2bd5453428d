import { useMemo, useState } from 'react';
import { parseEventLogs, type Address } from 'viem';
import { useConnection } from 'wagmi';
import { lineageParamsSchema } from '../../../../shared/api/chain.ts';
import { modelRegistryAbi } from '../../../../shared/chain/abis.ts';
import { SCORE_SCALE } from '../../../../shared/eval/metrics.ts';
import { hrefFor } from '../../app/router.ts';
import { Field } from '../../components/Field.tsx';
import { FilePicker } from '../../components/FilePicker.tsx';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { formatEth, parseEth, shortAddress, shortCid } from '../../util/format.ts';
import { useIpfsAddMutation } from '../ipfs/ipfsApi.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useWalletActions } from '../wallet/useWalletActions.ts';
import { useContracts } from '../wallet/WalletProvider.tsx';
import { WalletActionError } from '../wallet/walletErrors.ts';

interface Form {
  name: string;
  evalCid: string;
  genesis: string;
  epsStart: string;
  epsFloor: string;
  epsDecay: string;
  minCommitAge: string;
  verifiers: string[];
  extraVerifier: string;
  quorum: string;
  basePrice: string;
  pricePerPointGwei: string;
  ownerPct: string;
  ancestorsPct: string;
  creatorPct: string;
}

const pct = (s: string) => Math.round(Number(s) * 100);

/** Creates a lineage from the connected wallet (it becomes the lineage's creator). */
export function CreateLineage() {
  const contracts = useContracts();
  const me = useConnection().address;
  const { write } = useWalletActions();
  const [addText, addState] = useIpfsAddMutation();
  const others = contracts.devAccounts.filter((a) => a.toLowerCase() !== me?.toLowerCase());
  const [f, setF] = useState<Form>({
    name: '',
    evalCid: '',
    genesis: '8',
    epsStart: '1',
    epsFloor: '0.1',
    epsDecay: '10',
    minCommitAge: '60',
    verifiers: others[0] ? [others[0]] : [],
    extraVerifier: '',
    quorum: '1',
    basePrice: '0.001',
    pricePerPointGwei: '1',
    ownerPct: '70',
    ancestorsPct: '20',
    creatorPct: '10',
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<WalletActionError | null>(null);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setF((old) => ({ ...old, [k]: v }));

  const { params, errors } = useMemo(() => {
    const errors: Record<string, string> = {};
    const genesis = Number(f.genesis);
    if (!(genesis > 0))
      errors.genesis = 'Enter the baseline bits per byte, above 0 (8 = knows nothing about the text).';
    const base = parseEth(f.basePrice);
    if (base === null) errors.basePrice = 'Enter an amount in ETH, e.g. 0.001.';
    const perPoint = Number(f.pricePerPointGwei);
    if (!(perPoint >= 0) || !Number.isFinite(perPoint))
      errors.pricePerPointGwei = 'Enter gwei per score point, e.g. 1.';
    const verifiers = [...f.verifiers];
    if (f.extraVerifier.trim()) {
      if (/^0x[0-9a-fA-F]{40}$/.test(f.extraVerifier.trim())) verifiers.push(f.extraVerifier.trim());
      else errors.verifiers = 'Another verifier must be a 0x address of 40 hexadecimal digits.';
    }
    if (me && verifiers.some((v) => v.toLowerCase() === me.toLowerCase())) {
      errors.verifiers =
        'You are the creator: pick other accounts as verifiers (a trainer cannot attest its own claim).';
    }
    const raw = {
      name: f.name.trim(),
      evalDatasetCid: f.evalCid.trim(),
      metricName: 'bits_per_byte',
      higherIsBetter: false,
      genesisScore: Number.isFinite(genesis) && genesis > 0 ? String(Math.round(genesis * SCORE_SCALE)) : '0',
      epsilon: { startBps: pct(f.epsStart), floorBps: pct(f.epsFloor), decayBpsPerDay: Number(f.epsDecay) },
      minCommitAge: Number(f.minCommitAge),
      verifiers,
      quorum: Number(f.quorum),
      pricing: {
        basePriceWei: String(base ?? 0n),
        pricePerPointWei: String(BigInt(Math.round((Number.isFinite(perPoint) ? perPoint : 0) * 1e9))),
      },
      shares: { ownerBps: pct(f.ownerPct), ancestorsBps: pct(f.ancestorsPct), creatorBps: pct(f.creatorPct) },
    };
    const parsed = lineageParamsSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const key = String(i.path[0]);
        const map: Record<string, string> = {
          evalDatasetCid: 'evalCid',
          epsilon: 'eps',
          shares: 'shares',
          pricing: 'basePrice',
        };
        errors[map[key] ?? key] ??=
          key === 'evalDatasetCid' && !raw.evalDatasetCid
            ? 'Add the evaluation text (upload it, or paste its CID).'
            : key === 'name' && !raw.name
              ? 'Name the lineage.'
              : i.message;
      }
    }
    if (raw.shares.ownerBps + raw.shares.ancestorsBps + raw.shares.creatorBps !== 10_000) {
      errors.shares = 'The shares must add up to 100 %.';
    }
    if (raw.quorum > verifiers.length)
      errors.quorum = `The quorum cannot exceed the ${verifiers.length} verifier(s).`;
    return { params: Object.keys(errors).length === 0 && parsed.success ? parsed.data : null, errors };
  }, [f, me]);

  const submit = async () => {
    if (!params) return;
    setBusy(true);
    setError(null);
    try {
      const args = {
        name: params.name,
        evalDatasetCid: params.evalDatasetCid,
        metricName: params.metricName,
        higherIsBetter: params.higherIsBetter,
        genesisModelCid: params.genesisModelCid,
        genesisScore: BigInt(params.genesisScore),
        epsilon: params.epsilon,
        minCommitAge: params.minCommitAge,
        verifiers: params.verifiers as Address[],
        quorum: params.quorum,
        pricing: {
          basePrice: BigInt(params.pricing.basePriceWei),
          pricePerPoint: BigInt(params.pricing.pricePerPointWei),
          minPriceBps: params.pricing.minPriceBps,
          maxPriceBps: params.pricing.maxPriceBps,
          royaltyBps: params.pricing.royaltyBps,
        },
        shares: params.shares,
      };
      const receipt = await write({
        title: `Create the lineage “${params.name}”`,
        summary:
          'You create a competition around one evaluation text. New versions are minted only when they beat the best by ε, as attested by its verifiers. You become its creator and earn its creator share of licence sales.',
        fields: [
          { label: 'Contract', value: `ModelRegistry ${contracts.registry}`, mono: true },
          { label: 'Function', value: 'createLineage(…)' },
          { label: 'Evaluation text', value: params.evalDatasetCid, mono: true },
          { label: 'Metric', value: 'bits per byte (lower is better)' },
          { label: 'Genesis score', value: `${Number(params.genesisScore) / SCORE_SCALE} bits/byte` },
          { label: 'ε', value: `${params.epsilon.startBps / 100} % → ${params.epsilon.floorBps / 100} %` },
          { label: 'Verifiers', value: `${params.quorum} of ${params.verifiers.join(', ')}`, mono: true },
          { label: 'Base price', value: formatEth(BigInt(params.pricing.basePriceWei)) },
        ],
        address: contracts.registry as Address,
        abi: modelRegistryAbi,
        functionName: 'createLineage',
        args: [args],
      });
      const [created] = parseEventLogs({
        abi: modelRegistryAbi,
        eventName: 'LineageCreated',
        logs: receipt.logs,
      });
      location.hash = created
        ? hrefFor('models', 'lineage', String(created.args.lineageId))
        : hrefFor('models');
    } catch (e) {
      setError(e instanceof WalletActionError ? e : new WalletActionError(String(e)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="card"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Field label="Name" error={f.name ? errors.name : undefined}>
        {(p) => (
          <input
            {...p}
            value={f.name}
            onChange={(e) => set('name', e.target.value)}
            placeholder="Tiny Shakespeare"
          />
        )}
      </Field>
      <fieldset>
        <legend>Evaluation text</legend>
        <p className="muted small">
          A UTF-8 text every version is scored on (bits per byte, tokenizer-independent). It is added to IPFS;
          its CID is public, so keep a held-out text that is not in anyone’s training data.
        </p>
        <FilePicker
          label="Evaluation text"
          accept=".txt,text/plain"
          onPicked={(files) => {
            const file = files[0];
            if (file)
              void addText({ path: file.path, pin: true }).then((r) => {
                if ('data' in r && r.data) set('evalCid', r.data.cid);
              });
          }}
        />
        <InlineJobProgress kind="ipfs.add" />
        {addState.error ? <ErrorNotice error={addState.error} /> : null}
        <Field label="Evaluation text CID" error={errors.evalCid && f.name ? errors.evalCid : undefined}>
          {(p) => (
            <input
              {...p}
              value={f.evalCid}
              onChange={(e) => set('evalCid', e.target.value)}
              placeholder="bafk…"
            />
          )}
        </Field>
      </fieldset>
      <fieldset>
        <legend>Rules</legend>
        <div className="form-grid">
          <Field
            label="Genesis (bits per byte)"
            hint="the score the first version must beat"
            error={errors.genesis}
          >
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.genesis}
                onChange={(e) => set('genesis', e.target.value)}
              />
            )}
          </Field>
          <Field label="ε at first (%)" hint="minimum relative improvement" error={errors.eps}>
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.epsStart}
                onChange={(e) => set('epsStart', e.target.value)}
              />
            )}
          </Field>
          <Field label="ε floor (%)">
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.epsFloor}
                onChange={(e) => set('epsFloor', e.target.value)}
              />
            )}
          </Field>
          <Field label="ε decay (bp per day)">
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={f.epsDecay}
                onChange={(e) => set('epsDecay', e.target.value)}
              />
            )}
          </Field>
          <Field label="Commit age (s)" hint="wait between commit and claim" error={errors.minCommitAge}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={f.minCommitAge}
                onChange={(e) => set('minCommitAge', e.target.value)}
              />
            )}
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>Verifiers</legend>
        {others.length > 0 ? (
          <div className="row">
            {others.map((a) => (
              <label key={a} className="checkbox">
                <input
                  type="checkbox"
                  checked={f.verifiers.includes(a)}
                  onChange={(e) =>
                    set(
                      'verifiers',
                      e.target.checked ? [...f.verifiers, a] : f.verifiers.filter((v) => v !== a),
                    )
                  }
                />
                <code title={a}>{shortAddress(a)}</code>
                <span className="muted small">test account {contracts.devAccounts.indexOf(a)}</span>
              </label>
            ))}
          </div>
        ) : null}
        <div className="form-grid">
          <Field label="Another verifier (address)" error={errors.verifiers}>
            {(p) => (
              <input
                {...p}
                value={f.extraVerifier}
                onChange={(e) => set('extraVerifier', e.target.value)}
                placeholder="0x…"
              />
            )}
          </Field>
          <Field label="Quorum" hint="attestations a claim needs" error={errors.quorum}>
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={f.quorum}
                onChange={(e) => set('quorum', e.target.value)}
              />
            )}
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>Prices and shares</legend>
        <div className="form-grid">
          <Field label="Base price (ETH)" error={errors.basePrice}>
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.basePrice}
                onChange={(e) => set('basePrice', e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Per score point (gwei)"
            hint="1 point = 0.000001 bits/byte better"
            error={errors.pricePerPointGwei}
          >
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.pricePerPointGwei}
                onChange={(e) => set('pricePerPointGwei', e.target.value)}
              />
            )}
          </Field>
          <Field label="Owner share (%)" error={errors.shares}>
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.ownerPct}
                onChange={(e) => set('ownerPct', e.target.value)}
              />
            )}
          </Field>
          <Field label="Ancestors share (%)">
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.ancestorsPct}
                onChange={(e) => set('ancestorsPct', e.target.value)}
              />
            )}
          </Field>
          <Field label="Creator share (%)">
            {(p) => (
              <input
                {...p}
                inputMode="decimal"
                value={f.creatorPct}
                onChange={(e) => set('creatorPct', e.target.value)}
              />
            )}
          </Field>
        </div>
      </fieldset>
      {error ? (
        <div className="state state-error" role="alert">
          <p>{error.message}</p>
          {error.hint ? <p className="hint">{error.hint}</p> : null}
        </div>
      ) : null}
      <div className="row">
        <button type="submit" disabled={!params || busy || !me}>
          {busy ? 'Creating…' : 'Create lineage'}
        </button>
        {f.evalCid ? (
          <span className="muted small">
            evaluation text <code>{shortCid(f.evalCid)}</code>
          </span>
        ) : null}
        {!me ? <span className="field-error">Connect a wallet first.</span> : null}
      </div>
    </form>
  );
}
