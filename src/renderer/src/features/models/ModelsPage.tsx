import { hrefFor } from '../../app/router.ts';
import { PageHeader } from '../../components/StatusViews.tsx';
import { PipelinesView } from '../pipelines/PipelinesView.tsx';
import { AccountLine } from '../wallet/WalletPage.tsx';
import { WalletGate, WalletProvider } from '../wallet/WalletProvider.tsx';
import { ClaimWizard } from './ClaimWizard.tsx';
import { ClaimsCard } from './ClaimsCard.tsx';
import { CreateLineage } from './CreateLineage.tsx';
import { LineageDetail } from './LineageDetail.tsx';
import { LineagesCard } from './LineagesCard.tsx';
import { VerifierInbox } from './VerifierInbox.tsx';
import { YourModels } from './YourModels.tsx';

/**
 * #/models: your trained models (publish, evaluate, claim), lineages, claims, verifier inbox.
 * #/models/lineage/<id>, #/models/claim/<id>, #/models/new-lineage, #/models/inbox, #/models/pipelines
 */
export function ModelsPage({ rest }: { rest: string[] }) {
  const [first, second] = rest;
  let body;
  let title = 'Models';
  if (first === 'lineage' && second) {
    title = 'Lineage';
    body = <LineageDetail lineageId={Number(second)} />;
  } else if (first === 'claim' && second) {
    title = 'Claim an improvement';
    body = <ClaimWizard claimId={second} />;
  } else if (first === 'new-lineage') {
    title = 'New lineage';
    body = <CreateLineage />;
  } else if (first === 'inbox') {
    title = 'Verifier inbox';
    body = <VerifierInbox />;
  } else if (first === 'pipelines') {
    title = 'Pipelines';
    body = <PipelinesView />;
  } else {
    body = (
      <>
        <YourModels />
        <LineagesCard />
        <ClaimsCard />
      </>
    );
  }
  return (
    <WalletProvider>
      <section aria-labelledby="page-title">
        <PageHeader title={title}>
          {first ? (
            <a className="button secondary" href={hrefFor('models')}>
              All models
            </a>
          ) : (
            <>
              <a className="button secondary" href={hrefFor('models', 'pipelines')}>
                Pipelines
              </a>
              <a className="button secondary" href={hrefFor('models', 'inbox')}>
                Verifier inbox
              </a>
              <a className="button secondary" href={hrefFor('models', 'new-lineage')}>
                New lineage
              </a>
            </>
          )}
        </PageHeader>
        {first === 'pipelines' ? (
          // Pipelines run without the chain: only their claim section waits for it.
          body
        ) : (
          <WalletGate what="the lineages">
            <AccountLine />
            {body}
          </WalletGate>
        )}
      </section>
    </WalletProvider>
  );
}
