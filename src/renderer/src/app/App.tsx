import { useEffect } from 'react';
import { inElectron } from '../api/client.ts';
import { useAppSelector } from './hooks.ts';
import { renderPage } from './pageRegistry.tsx';
import { hrefFor, pages, useRoute } from './router.ts';
import { ThemeSwitch } from '../features/settings/ThemeSwitch.tsx';
import { JobsBar } from '../features/jobs/JobsBar.tsx';

export function App() {
  const route = useRoute();
  const connection = useAppSelector((s) => s.connection.state);

  useEffect(() => {
    const label = pages.find((p) => p.id === route.page)?.label ?? '';
    document.title = `${label} · XAI-Link`;
  }, [route.page]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="./favicon.svg" alt="" width="28" height="28" />
          <span>XAI-Link</span>
        </div>
        <ul>
          {pages.map((p) => (
            <li key={p.id}>
              <a href={hrefFor(p.id)} aria-current={route.page === p.id ? 'page' : undefined}>
                {p.label}
              </a>
            </li>
          ))}
        </ul>
        <div className="sidebar-footer">
          <ThemeSwitch />
          <span className="muted small">{inElectron ? 'Desktop' : 'Headless host'}</span>
        </div>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {connection !== 'open' ? (
          <div className="banner banner-warn" role="status">
            {connection === 'connecting'
              ? 'Connecting to XAI-Link…'
              : 'Connection to the XAI-Link host lost; reconnecting…'}
          </div>
        ) : null}
        {renderPage(route)}
      </main>
      <JobsBar />
    </div>
  );
}
