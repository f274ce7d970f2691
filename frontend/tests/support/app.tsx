// Shared by the component tests: a video record, a fake API behind a real ApiClient, and the app's providers.
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { ApiClient, loadConfig, memoryStore, type AppConfig } from '../../src/api/client';
import type { ConsentStatement, Video } from '../../src/api/types';
import { AuthProvider } from '../../src/auth';
import { I18nProvider, STORAGE_KEY, type Locale } from '../../src/i18n';

export function video(overrides: Partial<Video> = {}): Video {
  return {
    id: 'a'.repeat(32),
    title: 'Viewer 1',
    filename: 'viewer.mp4',
    content_type: 'video/mp4',
    size: 1000,
    backend: 'onnx',
    status: 'queued',
    progress: { done: 0, total: 0 },
    duration: null,
    created_at: '2026-01-01T00:00:00+00:00',
    updated_at: '2026-01-01T00:00:00+00:00',
    retryable: false,
    ...overrides,
  };
}

/** What GET /consent answers in these tests (unless a test answers it itself). */
export const STATEMENT: ConsentStatement = {
  version: '2026-12-01',
  statements: { en: 'The people in this video agreed to be filmed.', es: 'Las personas de este vídeo aceptaron ser grabadas.' },
};

export interface Call {
  method: string;
  path: string;
  body: any;
  auth: string | undefined;
}

export const json = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/**
 * An ApiClient whose every request goes to `handler` (and is recorded in `calls`); signed in unless told
 * otherwise (/auth/login, /auth/me and, unless `consent` is null, GET /consent are answered here, unrecorded).
 */
export async function fakeApi(
  handler: (call: Call) => Response | Promise<Response>,
  { signedIn = true, config, consent = STATEMENT }: { signedIn?: boolean; config?: AppConfig; consent?: ConsentStatement | null } = {},
) {
  const calls: Call[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call: Call = {
      method: init?.method ?? 'GET',
      path: String(url).replace('http://api.test', ''),
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      auth: headers.Authorization,
    };
    if (call.path === '/auth/login') return json(200, { access_token: 'access', refresh_token: 'refresh', expires_in: 3600 });
    if (call.path === '/auth/me') return json(200, { id: 'u1', email: 'ana@example.com', name: 'Ana' });
    if (call.path === '/consent' && consent) return json(200, consent);
    calls.push(call);
    return handler(call);
  }) as typeof globalThis.fetch;
  const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store: memoryStore(), limits: config?.limits });
  if (signedIn) await client.login('ana@example.com', 'a long passphrase');
  return { client, calls };
}

/**
 * Renders `ui` inside the app's providers (language, session, router at `path`), in `locale`. The router has
 * the app's (default) options: React Router's v7 flags would change when navigations render.
 */
export function renderInApp(ui: ReactElement, client: ApiClient, locale: Locale = 'en', path = '/') {
  window.localStorage.setItem(STORAGE_KEY, locale);
  return render(
    <I18nProvider>
      <AuthProvider client={client}>
        <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
      </AuthProvider>
    </I18nProvider>,
  );
}

/** The app's configuration as loadConfig reads it from a served `/config.json` document. */
export function configFrom(doc: unknown): Promise<AppConfig> {
  return loadConfig((async () => json(200, doc)) as typeof globalThis.fetch);
}
