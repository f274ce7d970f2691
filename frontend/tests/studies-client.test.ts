import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, memoryStore } from '../src/api/client';
import { InviteClient } from '../src/api/invite';

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
  credentials?: RequestCredentials;
}

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** A fetch that records every request; signs in on /auth/login and answers everything else with `answer`. */
function recorder(answer: (r: Req) => Response = () => json(200, {})) {
  const calls: Req[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const r: Req = {
      method: init?.method ?? 'GET',
      path: String(url).replace('http://api.test', ''),
      headers: { ...((init?.headers ?? {}) as Record<string, string>) },
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      credentials: init?.credentials,
    };
    calls.push(r);
    if (r.path === '/auth/login') return json(200, { access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900 });
    if (r.method === 'DELETE') return new Response(null, { status: 204 });
    if (r.path.includes('.csv')) return new Response('t,n\n0,1\n', { status: 200, headers: { 'Content-Type': 'text/csv' } });
    return answer(r);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

const S = 'e'.repeat(32);
const V = '1'.repeat(32);
const I = '9'.repeat(32);
const CONSENT = { given: true as const, text_version: 'viewer-2026-12-07', language: 'es' as const };

describe('study routes (creator, with the session)', () => {
  it('calls every study route of the contract with its method, path, body and the bearer token', async () => {
    const { fetch, calls } = recorder();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store: memoryStore() });
    await client.login('ana@example.com', 'a long passphrase');
    calls.length = 0;

    const content = { filename: 'trailer.mp4', content_type: 'video/mp4', size: 5000, duration: 12.5 };
    await client.createStudy({ title: 'Trailer', content });
    await client.listStudies();
    await client.getStudy(S);
    await client.studyContent(S);
    await client.listViewers(S);
    await client.addViewer(S, { filename: 'v.webm', content_type: 'video/webm', size: 10, offset: -1.5, label: 'Ana', consent: CONSENT });
    await client.viewerCurve(S, V); // no step: the API's display step
    await client.createInvite(S, { expires_in: 3600, max_viewers: 20 });
    await client.listInvites(S);
    await client.audience(S, 1);
    const csv = await client.audienceCsv(S, 1);
    await client.compare(S, V);
    await client.revokeInvite(S, I);
    await client.deleteViewer(S, V);
    await client.deleteStudy(S);

    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /studies',
      'GET /studies',
      `GET /studies/${S}`,
      `GET /studies/${S}/content`,
      `GET /studies/${S}/viewers`,
      `POST /studies/${S}/viewers`,
      `GET /studies/${S}/viewers/${V}/curve`,
      `POST /studies/${S}/invites`,
      `GET /studies/${S}/invites`,
      `GET /studies/${S}/audience?step=1`,
      `GET /studies/${S}/audience.csv?step=1`,
      `GET /compare?a=${S}&b=${V}`,
      `DELETE /studies/${S}/invites/${I}`,
      `DELETE /studies/${S}/viewers/${V}`,
      `DELETE /studies/${S}`,
    ]);
    for (const c of calls) expect(c.headers.Authorization, `${c.method} ${c.path}`).toBe('Bearer access-1');
    expect(calls[0].body).toEqual({ title: 'Trailer', content });
    expect(calls[5].body).toEqual({ filename: 'v.webm', content_type: 'video/webm', size: 10, offset: -1.5, label: 'Ana', consent: CONSENT });
    expect(calls[7].body).toEqual({ expires_in: 3600, max_viewers: 20 });
    expect(await csv.text()).toBe('t,n\n0,1\n');
    client.clearTokens();
  });
});

describe('invite routes (a viewer holding a link, no session)', () => {
  it('sends X-Invite-Token on every call, X-Withdraw-Token on their own recording, and never Authorization', async () => {
    const { fetch, calls } = recorder((r) => {
      if (r.path === '/invite/viewers' && r.method === 'POST') return json(201, { viewer: { id: V, label: 'Viewer 3' }, withdraw_token: 'wd-1' });
      return json(200, {});
    });
    // The creator is signed in in this tab: the invite client still carries none of their tokens.
    const client = new ApiClient({ baseUrl: 'http://api.test/', fetch, store: memoryStore() });
    await client.login('ana@example.com', 'a long passphrase');
    calls.length = 0;
    const invite = InviteClient.of(client, 'tok-en_123');

    await invite.info();
    await invite.content();
    const joined = await invite.join(CONSENT);
    await invite.upload(V, joined.withdraw_token, { filename: 'recording.webm', content_type: 'video/webm', size: 4321 });
    await invite.status(V, joined.withdraw_token);
    await invite.withdraw(V, joined.withdraw_token);

    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /invite',
      'GET /invite/content',
      'POST /invite/viewers',
      `POST /invite/viewers/${V}/upload`,
      `GET /invite/viewers/${V}`,
      `DELETE /invite/viewers/${V}`,
    ]);
    for (const c of calls) {
      expect(c.headers['X-Invite-Token'], c.path).toBe('tok-en_123');
      expect(c.headers.Authorization, c.path).toBeUndefined();
      expect(c.credentials, c.path).toBe('omit');
    }
    expect(calls.slice(0, 3).map((c) => c.headers['X-Withdraw-Token'])).toEqual([undefined, undefined, undefined]);
    expect(calls.slice(3).map((c) => c.headers['X-Withdraw-Token'])).toEqual(['wd-1', 'wd-1', 'wd-1']);
    expect(calls[2].body).toEqual({ consent: CONSENT });
    expect(calls[3].body).toEqual({ filename: 'recording.webm', content_type: 'video/webm', size: 4321 });
    client.clearTokens();
  });

  it('a refusal is the API error as is: no token refresh, no retry, the session untouched', async () => {
    const answers: Record<string, Response> = {};
    const { fetch, calls } = recorder((r) => answers[r.path] ?? json(500, {}));
    const store = memoryStore();
    const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store });
    await client.login('ana@example.com', 'a long passphrase');
    calls.length = 0;
    const invite = InviteClient.of(client, 'tok');

    answers['/invite'] = json(401, { error: { code: 'invite_invalid', message: 'unknown invite' } });
    expect(await invite.info().catch((e) => e)).toMatchObject({ code: 'invite_invalid', status: 401 });
    answers['/invite'] = json(410, { error: { code: 'invite_revoked', message: 'revoked' } });
    expect(await invite.info().catch((e) => e)).toMatchObject({ code: 'invite_revoked', status: 410 });
    answers['/invite/viewers'] = json(409, { error: { code: 'invite_full', message: 'full' } });
    const full = await invite.join(CONSENT).catch((e) => e);
    expect(full).toBeInstanceOf(ApiError);
    expect(full).toMatchObject({ code: 'invite_full', status: 409 });

    expect(calls.map((c) => c.path)).toEqual(['/invite', '/invite', '/invite/viewers']);
    expect(calls.some((c) => c.path.startsWith('/auth'))).toBe(false);
    expect(store.get()).toBe('refresh-1');
    expect(client.hasAccessToken).toBe(true);
    client.clearTokens();
  });

  it('a network failure is code network', async () => {
    const invite = new InviteClient({ baseUrl: 'http://api.test', token: 't', fetch: (async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch });
    expect(await invite.info().catch((e) => e)).toMatchObject({ code: 'network', status: 0 });
  });
});
