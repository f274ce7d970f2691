// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { parseRetentionDays } from '../src/pages/Account';
import { fakeApi, json, renderInApp, type Call } from './support/app';

const EXPORT = { url: 'http://s3.test/exports/u1/all.zip?sig=x', expires_at: '2026-12-01T12:00:00Z', size: 2048 };

/** The account routes of the API, with a settings record and a password. */
function accountApi(password = 'calm faces 2024') {
  const state = { retention_days: 30 as number | null, erased: false };
  const handler = (c: Call) => {
    if (c.path === '/account/settings' && c.method === 'GET') return json(200, { retention_days: state.retention_days });
    if (c.path === '/account/settings' && c.method === 'PUT') {
      state.retention_days = c.body.retention_days;
      return json(200, { retention_days: state.retention_days });
    }
    if (c.path.startsWith('/account/export')) return json(200, EXPORT);
    if (c.path === '/account' && c.method === 'DELETE') {
      if (c.body?.password !== password) return json(401, { error: { code: 'invalid_credentials', message: 'the password is wrong' } });
      state.erased = true;
      return new Response(null, { status: 204 });
    }
    return json(404, { error: { code: 'not_found', message: c.path } });
  };
  return { state, handler };
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

async function openAccount(locale: 'en' | 'es' = 'en') {
  const api = accountApi();
  const { client, calls } = await fakeApi(api.handler);
  const user = userEvent.setup();
  renderInApp(<App />, client, locale, '/account');
  await screen.findByRole('heading', { level: 1 });
  return { api, client, calls, user };
}

describe('account settings', () => {
  it('is linked from the header', async () => {
    const { client } = await fakeApi(accountApi().handler);
    const user = userEvent.setup();
    renderInApp(<App />, client, 'en', '/stats');
    await user.click(await screen.findByRole('link', { name: 'Account' }));
    expect(await screen.findByRole('heading', { name: 'Account settings', level: 1 })).toBeTruthy();
    client.clearTokens();
  });

  it('retention: shows the saved setting (30 days), saves "keep", "right after" and a number of days', async () => {
    const { api, client, calls, user } = await openAccount();
    const days = await screen.findByLabelText('Days after the analysis');
    expect((days as HTMLInputElement).value).toBe('30');
    expect((screen.getByLabelText('Delete the video a number of days after the analysis') as HTMLInputElement).checked).toBe(true);

    await user.click(screen.getByLabelText('Keep the video until I delete it'));
    expect(screen.queryByLabelText('Days after the analysis')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/^Saved\./)).toBeTruthy();
    expect(api.state.retention_days).toBeNull();

    await user.click(screen.getByLabelText('Delete the video right after the analysis'));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText(/^Saved\./);
    expect(api.state.retention_days).toBe(0);

    await user.click(screen.getByLabelText('Delete the video a number of days after the analysis'));
    const input = screen.getByLabelText('Days after the analysis');
    await user.clear(input);
    await user.type(input, '0');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByText('Enter a whole number of days from 1 to 3650.')).toBeTruthy();
    expect(api.state.retention_days).toBe(0);
    await user.clear(input);
    await user.type(input, '7');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText(/^Saved\./);
    expect(api.state.retention_days).toBe(7);
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.body.retention_days)).toEqual([null, 0, 7]);
    client.clearTokens();
  });

  it('export: asks for the zip (with the videos when ticked), starts its download and offers the link', async () => {
    const { client, calls, user } = await openAccount();
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.href);
    });
    await user.click(screen.getByLabelText('Include the videos themselves (a much larger file)'));
    await user.click(screen.getByRole('button', { name: 'Export everything' }));
    const status = await screen.findByText(/^Your file is ready \(2 KB\)/);
    expect(calls.find((c) => c.path.startsWith('/account/export'))?.path).toBe('/account/export?videos=true');
    expect(clicked).toEqual([EXPORT.url]);
    expect(within(status).getByRole('link', { name: 'Download the export' }).getAttribute('href')).toBe(EXPORT.url);
    client.clearTokens();
  });

  it('erase: a clear confirmation, a wrong password refused in words, then everything goes and the user is signed out', async () => {
    const { api, client, calls, user } = await openAccount('es');
    expect(screen.getByText(/No se puede deshacer/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Borrar mi cuenta…' }));
    const submit = screen.getByRole('button', { name: 'Borrar todo para siempre' });
    await user.click(submit);
    expect(screen.getByText('Escribe tu contraseña.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);

    await user.type(screen.getByLabelText('Contraseña'), 'not it');
    await user.click(submit);
    expect((await screen.findByRole('alert')).textContent).toBe('La contraseña no es correcta.');
    expect(client.hasAccessToken).toBe(true); // a wrong password does not end the session
    expect(api.state.erased).toBe(false);

    await user.clear(screen.getByLabelText('Contraseña'));
    await user.type(screen.getByLabelText('Contraseña'), 'calm faces 2024');
    await user.click(screen.getByRole('button', { name: 'Borrar todo para siempre' }));
    expect(await screen.findByText('Tu cuenta y todos sus datos se han borrado.')).toBeTruthy();
    expect(api.state.erased).toBe(true);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Hola de nuevo');
    expect(client.hasSession).toBe(false);
    expect(calls.filter((c) => c.path === '/auth/logout')).toHaveLength(0); // the server already ended it
  });

  it('cancelling the confirmation erases nothing', async () => {
    const { api, client, user } = await openAccount();
    await user.click(screen.getByRole('button', { name: 'Erase my account…' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByLabelText('Password')).toBeNull();
    expect(api.state.erased).toBe(false);
    client.clearTokens();
  });
});

describe('retention days', () => {
  it('accepts whole days from 1 to 3650 only', () => {
    expect(['1', ' 30 ', '3650'].map(parseRetentionDays)).toEqual([1, 30, 3650]);
    expect(['', '0', '3651', '1.5', '-3', 'ten', '1e3'].map(parseRetentionDays)).toEqual(Array(7).fill(null));
  });
});
