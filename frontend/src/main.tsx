import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { ApiClient, loadConfig, sessionStore } from './api/client';
import { App } from './App';
import { AuthProvider } from './auth';
import { I18nProvider } from './i18n';
import './styles.css';

async function start() {
  const config = await loadConfig();
  // The refresh token lives in sessionStorage: it survives a reload of this tab but not closing it, and
  // it is not shared between tabs, so two tabs never rotate (and thereby revoke) the same token.
  const client = new ApiClient({ baseUrl: config.apiUrl, limits: config.limits, store: sessionStore() });
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <I18nProvider>
        <AuthProvider client={client}>
          <BrowserRouter>
            <App />
          </BrowserRouter>
        </AuthProvider>
      </I18nProvider>
    </StrictMode>,
  );
}

start();
