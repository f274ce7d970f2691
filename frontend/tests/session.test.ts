import { describe, expect, it, vi } from 'vitest';
import { ApiClient, memoryStore, toApiError } from '../src/api/client';
import { restoreSession } from '../src/auth';

type Req = { method: string; path: string; headers: Record<string, string>; body: any };

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const tokens = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: 'Bearer', expires_in: 900 });
const user = { id: 'u1', email: 'ana@example.com', name: 'Ana' };

function fakeFetch(handler: (req: Req) => Response | Promise<Response>) {
  const calls: Req[] = [];
  const fn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const req = {
      method: init?.method ?? 'GET',
      path: String(url).replace('http://api.test', ''),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(req);
    return handler(req);
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

/** A client after a reload: only the refresh token survived (sessionStorage). */
function reloaded(handler: (req: Req) => Response | Promise<Response>) {
  const f = fakeFetch(handler);
  const store = memoryStore('refresh-1');
  return { client: new ApiClient({ baseUrl: 'http://api.test', fetch: f.fetch, store }), store, calls: f.calls };
}

describe('restoring a session on reload', () => {
  it('a 5xx from /auth/refresh keeps the tokens and reports an error; a retry then signs in', async () => {
    let down = true;
    const { client, store } = reloaded((req) => {
      if (req.path === '/auth/refresh') return down ? json(503, { error: { code: 'unavailable', message: 'x' } }) : json(200, tokens(2));
      if (req.path === '/auth/me') return json(200, user);
      return json(404, {});
    });
    const first = await restoreSession(client);
    expect(first.kind).toBe('error');
    expect(store.get()).toBe('refresh-1');
    expect(client.hasSession).toBe(true);
    down = false;
    const second = await restoreSession(client);
    expect(second).toEqual({ kind: 'signedIn', user });
    expect(store.get()).toBe('refresh-2');
  });

  it('a network failure keeps the tokens and reports a network error', async () => {
    const { client, store } = reloaded(() => {
      throw new TypeError('Failed to fetch');
    });
    const r = await restoreSession(client);
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && (r.error as { code: string }).code).toBe('network');
    expect(store.get()).toBe('refresh-1');
  });

  it('only a 400/401 from /auth/refresh signs out and forgets the tokens', async () => {
    for (const status of [400, 401]) {
      const onSessionEnd = vi.fn();
      const { client, store } = reloaded(() => json(status, { error: { code: 'invalid_refresh_token', message: 'x' } }));
      client.onSessionEnd = onSessionEnd;
      expect(await restoreSession(client)).toEqual({ kind: 'signedOut' });
      expect(store.get()).toBeNull();
      expect(client.hasSession).toBe(false);
      expect(onSessionEnd).toHaveBeenCalledTimes(1);
    }
  });
});

describe('logout while a refresh is in flight', () => {
  it('does not let the refresh bring the session back, and revokes the rotated tokens', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { client, store, calls } = reloaded(async (req) => {
      if (req.path === '/auth/refresh') {
        await gate;
        return json(200, tokens(2));
      }
      if (req.path === '/auth/logout') return new Response(null, { status: 204 });
      if (req.path === '/auth/me') return req.headers.Authorization === 'Bearer access-2' ? json(200, user) : json(401, {});
      return json(404, {});
    });
    const me = client.me(); // starts the refresh
    await Promise.resolve();
    const out = client.logout();
    release();
    await out;
    await expect(me).rejects.toMatchObject({ status: 401 });
    expect(client.hasSession).toBe(false);
    expect(client.hasAccessToken).toBe(false);
    expect(store.get()).toBeNull();
    const logout = calls.find((c) => c.path === '/auth/logout');
    expect(logout?.body).toEqual({ refresh_token: 'refresh-2' });
    expect(logout?.headers.Authorization).toBe('Bearer access-2');
    expect(calls.filter((c) => c.path === '/auth/me')).toHaveLength(0);
  });

  it('a refused refresh after logout does not end the session twice', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const onSessionEnd = vi.fn();
    const { client } = reloaded(async () => {
      await gate;
      return json(401, { error: { code: 'refresh_token_reused', message: 'x' } });
    });
    client.onSessionEnd = onSessionEnd;
    const r = client.refresh();
    const out = client.logout();
    release();
    await out;
    await expect(r).rejects.toMatchObject({ code: 'refresh_token_reused' });
    expect(onSessionEnd).not.toHaveBeenCalled();
  });
});

describe('Retry-After', () => {
  it('is read into the error', async () => {
    const e = await toApiError(json(429, { error: { code: 'rate_limited', message: 'x' } }, { 'Retry-After': '120' }));
    expect(e.code).toBe('rate_limited');
    expect(e.retryAfter).toBe(120);
  });
});
