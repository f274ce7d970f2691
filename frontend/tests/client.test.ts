import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, loadConfig, memoryStore, toApiError } from '../src/api/client';
import { errorText, translator } from '../src/i18n/core';

type Handler = (req: { method: string; path: string; headers: Record<string, string>; body: any }) => Response | Promise<Response>;

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const apiError = (status: number, code: string, message: string) => json(status, { error: { code, message } });
const tokens = (n: number, expires_in = 900) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: 'Bearer', expires_in });

/** A fake fetch that records every call and answers with `handler`. */
function fakeFetch(handler: Handler) {
  const calls: { method: string; path: string; headers: Record<string, string>; body: any }[] = [];
  const fn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const path = String(url).replace('http://api.test', '');
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const req = { method: init?.method ?? 'GET', path, headers, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(req);
    return handler(req);
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

/** A server with a rotating refresh token, where `valid` is the one access token it accepts. */
function fakeServer() {
  const state = { n: 0, valid: '', refreshes: 0, refreshDelay: 0 };
  const handler: Handler = async (req) => {
    if (req.path === '/auth/login') {
      state.n++;
      state.valid = `access-${state.n}`;
      return json(200, tokens(state.n));
    }
    if (req.path === '/auth/refresh') {
      state.refreshes++;
      if (req.body.refresh_token !== `refresh-${state.n}`) return apiError(401, 'refresh_token_reused', 'spent');
      if (state.refreshDelay) await new Promise((r) => setTimeout(r, state.refreshDelay));
      state.n++;
      state.valid = `access-${state.n}`;
      return json(200, tokens(state.n));
    }
    if (req.path === '/auth/logout') return new Response(null, { status: 204 });
    if (req.headers.Authorization !== `Bearer ${state.valid}`) return apiError(401, 'unauthorized', 'the access token is missing or invalid');
    if (req.path.startsWith('/videos')) return json(200, { items: [], next: null });
    return json(404, { error: { code: 'not_found', message: 'no such route' } });
  };
  return { state, handler };
}

describe('ApiClient', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('signs in, keeps the access token in memory and the refresh token in the store', async () => {
    const server = fakeServer();
    const { fetch, calls } = fakeFetch(server.handler);
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test/', fetch, store });
    await client.login('ana@example.com', 'a long enough passphrase');
    expect(store.get()).toBe('refresh-1');
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/auth/login', body: { email: 'ana@example.com' } });
    expect(calls[0].headers['Content-Type']).toBe('application/json');
    await client.listVideos(null, 5);
    expect(calls[1].path).toBe('/videos?limit=5');
    expect(calls[1].headers.Authorization).toBe('Bearer access-1');
    await client.listVideos('abc');
    expect(calls[2].path).toBe('/videos?limit=10&cursor=abc');
    client.clearTokens();
  });

  it('refreshes before expiry, at 80% of expires_in, and rotates the refresh token', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const { fetch, calls } = fakeFetch(server.handler);
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store });
    await client.login('ana@example.com', 'pw');
    await vi.advanceTimersByTimeAsync(719_000);
    expect(server.state.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.state.refreshes).toBe(1);
    expect(calls.at(-1)).toMatchObject({ path: '/auth/refresh', body: { refresh_token: 'refresh-1' } });
    expect(store.get()).toBe('refresh-2');
    await client.listVideos();
    expect(calls.at(-1)!.headers.Authorization).toBe('Bearer access-2');
    // and again for the next token
    await vi.advanceTimersByTimeAsync(720_000);
    expect(server.state.refreshes).toBe(2);
    expect(store.get()).toBe('refresh-3');
    client.clearTokens();
  });

  it('answers a 401 with one refresh and exactly one retry', async () => {
    const server = fakeServer();
    const { fetch, calls } = fakeFetch(server.handler);
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch });
    await client.login('ana@example.com', 'pw');
    server.state.valid = 'nothing'; // access-1 is now rejected; the refresh makes access-2 valid
    const page = await client.listVideos();
    expect(page).toEqual({ items: [], next: null });
    const paths = calls.map((c) => c.path);
    expect(paths).toEqual(['/auth/login', '/videos?limit=10', '/auth/refresh', '/videos?limit=10']);
    expect(calls[3].headers.Authorization).toBe('Bearer access-2');
    client.clearTokens();
  });

  it('does not retry twice: a second 401 ends the session', async () => {
    let n = 0;
    const { fetch, calls } = fakeFetch((req) => {
      if (req.path === '/auth/login' || req.path === '/auth/refresh') return json(200, tokens(++n));
      return apiError(401, 'unauthorized', 'no');
    });
    const onSessionEnd = vi.fn();
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store, onSessionEnd });
    await client.login('a@b.co', 'pw');
    const err = await client.stats().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('unauthorized');
    expect(calls.map((c) => c.path)).toEqual(['/auth/login', '/stats', '/auth/refresh', '/stats']);
    expect(onSessionEnd).toHaveBeenCalledTimes(1);
    expect(store.get()).toBeNull();
    expect(client.hasSession).toBe(false);
  });

  it('concurrent 401s share ONE refresh', async () => {
    const server = fakeServer();
    server.state.refreshDelay = 20;
    const { fetch, calls } = fakeFetch(server.handler);
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch });
    await client.login('ana@example.com', 'pw');
    server.state.valid = 'rotated-elsewhere'; // every request with access-1 now gets 401
    const results = await Promise.all([client.listVideos(), client.getVideo('a'.repeat(32)), client.stats().catch((e) => e.code)]);
    expect(server.state.refreshes).toBe(1);
    expect(calls.filter((c) => c.path === '/auth/refresh')).toHaveLength(1);
    expect(results[0]).toEqual({ items: [], next: null });
    expect(results[2]).toBe('not_found');
    // every retry carried the new token
    const retried = calls.slice(calls.findIndex((c) => c.path === '/auth/refresh') + 1);
    expect(retried.length).toBe(3);
    expect(retried.every((c) => c.headers.Authorization === 'Bearer access-2')).toBe(true);
    client.clearTokens();
  });

  it('a refused refresh ends the session once', async () => {
    const { fetch } = fakeFetch((req) =>
      req.path === '/auth/refresh' ? apiError(401, 'refresh_token_reused', 'family revoked') : apiError(401, 'unauthorized', 'no'),
    );
    const onSessionEnd = vi.fn();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store: memoryStore('refresh-x'), onSessionEnd });
    const err = await client.me().catch((e) => e);
    expect(err.code).toBe('refresh_token_reused');
    expect(onSessionEnd).toHaveBeenCalledTimes(1);
    expect(client.hasSession).toBe(false);
  });

  it('restores a session from a stored refresh token with one refresh', async () => {
    const server = fakeServer();
    server.state.n = 7;
    const { fetch, calls } = fakeFetch(server.handler);
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store: memoryStore('refresh-7') });
    expect(client.hasSession).toBe(true);
    expect(client.hasAccessToken).toBe(false);
    await Promise.all([client.listVideos(), client.listVideos()]);
    expect(calls.filter((c) => c.path === '/auth/refresh')).toHaveLength(1);
    expect(calls.filter((c) => c.path.startsWith('/videos')).every((c) => c.headers.Authorization === 'Bearer access-8')).toBe(true);
    client.clearTokens();
  });

  it('logout calls /auth/logout with the bearer and refresh token, then clears every token', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const { fetch, calls } = fakeFetch(server.handler);
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store });
    await client.login('ana@example.com', 'pw');
    await client.logout();
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: '/auth/logout', body: { refresh_token: 'refresh-1' } });
    expect(calls.at(-1)!.headers.Authorization).toBe('Bearer access-1');
    expect(store.get()).toBeNull();
    expect(client.hasSession).toBe(false);
    // the refresh timer is gone too
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(server.state.refreshes).toBe(0);
    const err = await client.listVideos().catch((e) => e);
    expect(err.code).toBe('unauthorized');
  });

  it('logout clears tokens even when the server cannot be reached', async () => {
    let up = true;
    const { fetch } = fakeFetch(() => {
      if (!up) throw new TypeError('Failed to fetch');
      return json(200, tokens(1));
    });
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store });
    await client.login('a@b.co', 'pw');
    up = false;
    await client.logout();
    expect(store.get()).toBeNull();
    expect(client.hasSession).toBe(false);
  });
});

describe('errors', () => {
  it('maps the API error body to {code, message}', async () => {
    const err = await toApiError(apiError(409, 'email_taken', 'an account with this email already exists'));
    expect(err).toBeInstanceOf(ApiError);
    expect({ code: err.code, message: err.message, status: err.status }).toEqual({
      code: 'email_taken',
      message: 'an account with this email already exists',
      status: 409,
    });
  });

  it('maps a body that is not JSON to http_<status>', async () => {
    const err = await toApiError(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(err.code).toBe('http_502');
    expect(err.message).toBe('Bad Gateway');
  });

  it('a failed request throws the mapped error; a network failure is code network', async () => {
    const { fetch } = fakeFetch(() => apiError(401, 'invalid_credentials', 'wrong email or password'));
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch });
    const err = await client.login('a@b.co', 'x').catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_credentials', message: 'wrong email or password', status: 401 });

    const down = new ApiClient({ baseUrl: 'http://api.test', fetch: (async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch });
    const net = await down.register('a@b.co', 'abcdefghijk').catch((e) => e);
    expect(net).toMatchObject({ code: 'network', status: 0 });
  });

  it('turns known codes into translated words, and unknown ones into a generic message per HTTP status family', () => {
    const en = translator('en');
    const es = translator('es');
    const known = new ApiError('invalid_credentials', 'wrong email or password', 401);
    expect(errorText(known, en)).toBe('The email or the password is wrong.');
    expect(errorText(known, es)).toBe('El correo o la contraseña no son correctos.');
    expect(errorText(new ApiError('rate_limited', 'x', 429), es)).toMatch(/Demasiados intentos/);
    const unknown = new ApiError('brand_new_code', 'something the server explains', 400);
    expect(errorText(unknown, en)).toBe('The request could not be completed (error 400).');
    expect(errorText(unknown, es)).toBe('No se pudo completar la solicitud (error 400).');
    expect(errorText(new ApiError('http_502', 'Bad Gateway', 502), en)).toMatch(/server had a problem \(error 502\)/);
    expect(errorText(new ApiError('weird', 'x', 0), es)).toBe('Algo salió mal. Inténtalo de nuevo.');
    expect(errorText(new Error('boom'), en)).toBe('boom');
  });
});

describe('loadConfig', () => {
  beforeEach(() => vi.restoreAllMocks());
  it('reads apiUrl and the upload limit from /config.json, and the client carries the limits', async () => {
    const doc = { apiUrl: 'https://api.example.com', limits: { maxUploadBytes: 7340032, videosPerDay: 40 } };
    const f = vi.fn(async () => json(200, doc));
    const config = await loadConfig(f as unknown as typeof fetch);
    expect(config).toEqual({ apiUrl: 'https://api.example.com', limits: { maxUploadBytes: doc.limits.maxUploadBytes } });
    expect(f).toHaveBeenCalledWith('/config.json', expect.anything());
    expect(new ApiClient({ baseUrl: config.apiUrl, limits: config.limits }).limits.maxUploadBytes).toBe(doc.limits.maxUploadBytes);
  });
  it('falls back to the local API when there is no config', async () => {
    const none = { apiUrl: 'http://127.0.0.1:8000', limits: { maxUploadBytes: null } };
    expect(await loadConfig((async () => new Response('nope', { status: 404 })) as unknown as typeof fetch)).toEqual(none);
    expect(await loadConfig((async () => { throw new TypeError('offline'); }) as unknown as typeof fetch)).toEqual(none);
    expect(await loadConfig((async () => new Response('<html>', { status: 200 })) as unknown as typeof fetch)).toEqual(none);
  });
  it('leaves a missing or nonsensical limit to the API instead of guessing one', async () => {
    for (const limits of [undefined, {}, { maxUploadBytes: '500' }, { maxUploadBytes: -1 }, { maxUploadBytes: 0 }]) {
      const config = await loadConfig((async () => json(200, { apiUrl: 'https://api.example.com', limits })) as unknown as typeof fetch);
      expect(config.limits.maxUploadBytes, JSON.stringify(limits)).toBeNull();
    }
    expect(new ApiClient({ baseUrl: 'http://api.test' }).limits.maxUploadBytes).toBeNull();
  });
});

describe('privacy routes (issue 13)', () => {
  it('reads the consent statement without a session', async () => {
    const statement = { version: '2026-12-01', statements: { en: 'They agreed.', es: 'Aceptaron.' } };
    const { fetch, calls } = fakeFetch(() => json(200, statement));
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch });
    expect(await client.consent()).toEqual(statement);
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/consent' });
    expect(calls[0].headers.Authorization).toBeUndefined();
  });

  it('settings, export and erase call their routes', async () => {
    const server = fakeServer();
    const inner = server.handler;
    const { fetch, calls } = fakeFetch(async (req) => {
      if (req.path === '/account/settings') return req.method === 'PUT' ? json(200, req.body) : json(200, { retention_days: 30 });
      if (req.path.startsWith('/account/export')) return json(200, { url: 'http://s3.test/x.zip', expires_at: '2026-12-01T00:00:00Z', size: 10 });
      if (req.path === '/account') return new Response(null, { status: 204 });
      return inner(req);
    });
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store });
    await client.login('ana@example.com', 'pw');
    expect(await client.accountSettings()).toEqual({ retention_days: 30 });
    expect(await client.updateAccountSettings({ retention_days: null })).toEqual({ retention_days: null });
    expect(calls.at(-1)).toMatchObject({ method: 'PUT', path: '/account/settings', body: { retention_days: null } });
    await client.exportAccount(true);
    expect(calls.at(-1)?.path).toBe('/account/export?videos=true');
    await client.exportAccount(false);
    expect(calls.at(-1)?.path).toBe('/account/export?videos=false');
    await client.deleteAccount('pw');
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', path: '/account', body: { password: 'pw' } });
    expect(calls.at(-1)?.headers.Authorization).toBe('Bearer access-1');
    // the account is gone: so is the session here, and signing out asks the server nothing
    expect(client.hasSession).toBe(false);
    expect(store.get()).toBeNull();
    const before = calls.length;
    await client.logout();
    expect(calls).toHaveLength(before);
  });

  it('a wrong password when erasing is an answer about the password: no refresh, the session stays', async () => {
    const onSessionEnd = vi.fn();
    const server = fakeServer();
    const inner = server.handler;
    const { fetch, calls } = fakeFetch(async (req) =>
      req.path === '/account' ? apiError(401, 'invalid_credentials', 'the password is wrong') : inner(req),
    );
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, onSessionEnd });
    await client.login('ana@example.com', 'pw');
    const err = await client.deleteAccount('nope').catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_credentials', status: 401 });
    expect(calls.map((c) => c.path)).toEqual(['/auth/login', '/account']);
    expect(onSessionEnd).not.toHaveBeenCalled();
    expect(client.hasAccessToken).toBe(true);
    client.clearTokens();
  });
});
