import type { ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth';
import { Layout } from './components/Layout';
import { PageHeading, usePageTitle } from './components/PageHeading';
import { ErrorState, Loading } from './components/States';
import { useI18n } from './i18n';
import { Account } from './pages/Account';
import { ComparePage } from './pages/Compare';
import { Home } from './pages/Home';
import { Register } from './pages/Register';
import { Results } from './pages/Results';
import { SignIn } from './pages/SignIn';
import { StatsPage } from './pages/Stats';
import { StudiesPage } from './pages/Studies';
import { StudyPage } from './pages/Study';
import { WatchPage } from './pages/Watch';

/** The session could not be restored (offline, server error): say so and offer a retry, never sign out. */
function RestoreFailed() {
  const { restoreError, retryRestore } = useAuth();
  const { t } = useI18n();
  usePageTitle(t('auth.restoreFailed'));
  return (
    <section className="panel">
      <PageHeading>{t('auth.restoreFailed')}</PageHeading>
      <ErrorState error={restoreError} onRetry={retryRestore} />
    </section>
  );
}

function RequireAuth({ children }: { children: ReactNode }) {
  const { phase } = useAuth();
  const location = useLocation();
  if (phase === 'restoring') return <Loading />;
  if (phase === 'restoreFailed') return <RestoreFailed />;
  if (phase !== 'signedIn') return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

function PublicOnly({ children }: { children: ReactNode }) {
  const { phase } = useAuth();
  if (phase === 'restoring') return <Loading />;
  if (phase === 'restoreFailed') return <RestoreFailed />;
  if (phase === 'signedIn') return <Navigate to="/" replace />;
  return <>{children}</>;
}

function NotFound() {
  const { t } = useI18n();
  usePageTitle(t('notFound.title'));
  return (
    <section className="panel">
      <PageHeading>{t('notFound.title')}</PageHeading>
    </section>
  );
}

/** The signed-in app and its sign-in pages, inside the app's header and navigation. */
function AppShell() {
  return (
    <Layout>
      <Routes>
        <Route path="/signin" element={<PublicOnly><SignIn /></PublicOnly>} />
        <Route path="/register" element={<PublicOnly><Register /></PublicOnly>} />
        <Route path="/" element={<RequireAuth><Home /></RequireAuth>} />
        <Route path="/videos/:id" element={<RequireAuth><Results /></RequireAuth>} />
        <Route path="/stats" element={<RequireAuth><StatsPage /></RequireAuth>} />
        <Route path="/account" element={<RequireAuth><Account /></RequireAuth>} />
        <Route path="/studies" element={<RequireAuth><StudiesPage /></RequireAuth>} />
        <Route path="/studies/compare" element={<RequireAuth><ComparePage /></RequireAuth>} />
        <Route path="/studies/:id" element={<RequireAuth><StudyPage /></RequireAuth>} />
        <Route path="*" element={<RequireAuth><NotFound /></RequireAuth>} />
      </Routes>
    </Layout>
  );
}

export function App() {
  return (
    <Routes>
      {/* An invite link's page: public, no sign-in and no app navigation (the viewer is not a user). */}
      <Route path="/watch/:token" element={<WatchPage />} />
      <Route path="*" element={<AppShell />} />
    </Routes>
  );
}
