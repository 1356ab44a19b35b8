// The dashboard's frame: navigation, the client routes under /ui, and the API-key dialog.
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { KeyDialog } from './components/key-dialog.js';
import { ModelsPage } from './pages/models.js';
import { ModelPage } from './pages/model.js';
import { JobPage } from './pages/job.js';
import { JobsPage } from './pages/jobs.js';
import { NewJobPage } from './pages/new-job.js';
import { DatasetsPage } from './pages/datasets.js';
import { DatasetPage } from './pages/dataset.js';
import { NotFoundPage } from './pages/not-found.js';
import { BnPanelPage } from './pages/bn-panel.js';
import { ExperimentsPage } from './pages/experiments.js';
import { ExperimentPage } from './pages/experiment.js';

export const UI = '/ui';

const NAV = [
  { href: `${UI}/models`, label: 'Models', match: (p: string) => p === `${UI}/` || p === UI || p.startsWith(`${UI}/models`) },
  { href: `${UI}/jobs`, label: 'Jobs', match: (p: string) => p === `${UI}/jobs` || (p.startsWith(`${UI}/jobs/`) && p !== `${UI}/jobs/new`) },
  { href: `${UI}/jobs/new`, label: 'New job', match: (p: string) => p === `${UI}/jobs/new` },
  { href: `${UI}/datasets`, label: 'Datasets', match: (p: string) => p.startsWith(`${UI}/datasets`) },
  { href: `${UI}/experiments`, label: 'Experiments', match: (p: string) => p.startsWith(`${UI}/experiments`) },
];

function Nav() {
  const { path } = useLocation();
  return (
    <nav aria-label="Main">
      <ul>
        {NAV.map((item) => (
          <li key={item.href}>
            <a href={item.href} aria-current={item.match(path) ? 'page' : undefined}>
              {item.label}
            </a>
          </li>
        ))}
        <li>
          <a href="/docs" target="_blank" rel="noopener">
            API docs
          </a>
        </li>
      </ul>
    </nav>
  );
}

/** After a client-side navigation, focus goes to the new page (as a page load would do). */
function focusMain() {
  const main = document.getElementById('main');
  if (main && document.activeElement !== main && !main.contains(document.activeElement)) main.focus({ preventScroll: false });
}

export function App() {
  return (
    <LocationProvider scope={UI}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={`${UI}/`}>
          bn-service
        </a>
        <Nav />
      </header>
      <main id="main" tabIndex={-1}>
        <Router onRouteChange={focusMain}>
          <Route path={UI} component={ModelsPage} />
          <Route path={`${UI}/`} component={ModelsPage} />
          <Route path={`${UI}/models`} component={ModelsPage} />
          <Route path={`${UI}/models/:modelId`} component={ModelPage} />
          <Route path={`${UI}/models/:modelId/bn`} component={BnPanelPage} />
          <Route path={`${UI}/jobs`} component={JobsPage} />
          <Route path={`${UI}/jobs/new`} component={NewJobPage} />
          <Route path={`${UI}/jobs/:jobId`} component={JobPage} />
          <Route path={`${UI}/datasets`} component={DatasetsPage} />
          <Route path={`${UI}/datasets/:datasetId`} component={DatasetPage} />
          <Route path={`${UI}/experiments`} component={ExperimentsPage} />
          <Route path={`${UI}/experiments/:experimentId`} component={ExperimentPage} />
          <Route default component={NotFoundPage} />
        </Router>
      </main>
      <KeyDialog />
    </LocationProvider>
  );
}
