import { PageHeader } from '../../components/StatusViews.tsx';

/** A page whose feature has not landed yet: it says what will be there, and shows nothing fake. */
export function ComingSoonPage({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={title} />
      <div className="card coming-soon">
        <p>
          <strong>Not available yet.</strong>
        </p>
        {children}
      </div>
    </section>
  );
}
