import type { ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useAuth } from './auth';
import { Layout } from './components/Layout';
import { Loading } from './components/States';
import { useI18n } from './i18n';
import { Home } from './pages/Home';
import { Register } from './pages/Register';
import { Results } from './pages/Results';
import { SignIn } from './pages/SignIn';
import { StatsPage } from './pages/Stats';

function RequireAuth({ children }: { children: ReactNode }) {
  const { phase } = useAuth();
  const location = useLocation();
  if (phase === 'restoring') return <Loading />;
  if (phase !== 'signedIn') return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

function PublicOnly({ children }: { children: ReactNode }) {
  const { phase } = useAuth();
  if (phase === 'restoring') return <Loading />;
  if (phase === 'signedIn') return <Navigate to="/" replace />;
  return <>{children}</>;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section className="panel">
      <h1>{t('notFound.title')}</h1>
    </section>
  );
}

export function App() {
  return (
    <Layout>
      <Routes>
        <Route path="/signin" element={<PublicOnly><SignIn /></PublicOnly>} />
        <Route path="/register" element={<PublicOnly><Register /></PublicOnly>} />
        <Route path="/" element={<RequireAuth><Home /></RequireAuth>} />
        <Route path="/videos/:id" element={<RequireAuth><Results /></RequireAuth>} />
        <Route path="/stats" element={<RequireAuth><StatsPage /></RequireAuth>} />
        <Route path="*" element={<RequireAuth><NotFound /></RequireAuth>} />
      </Routes>
    </Layout>
  );
}
