// @vitest-environment happy-dom
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AudienceCurve, Viewer } from '../src/api/types';
import { App } from '../src/App';
import { AddViewer } from '../src/components/study/AddViewer';
import type { Uploader } from '../src/lib/useUpload';
import { fakeApi, json, renderInApp, STATEMENT, type Call } from './support/app';
import { audience, pointer, study, STUDY_ID, withSizedLayout, viewer, VIEWER_1, VIEWER_2, VIEWER_3, xAt } from './support/studies';

const CONTENT_URL = 'http://s3.test/content/trailer.mp4';
const VIEWER_STATEMENT = {
  version: 'viewer-2026-12-07',
  statements: { en: 'I agree that my face is filmed while I watch this content.', es: 'Acepto que se grabe mi rostro mientras veo este contenido.' },
};

/** The study routes of the API over a state the tests change (viewers, curve), recording every call. */
function studyApi() {
  const state = {
    viewers: [viewer(), viewer({ id: VIEWER_2, label: 'Viewer 2', source: 'creator', offset: -1.5, consent: { given: true, text_version: 'viewer-2026-12-07', language: 'en', recorded_at: '2026-12-07T11:00:00+00:00' } })] as Viewer[],
    curve: audience() as AudienceCurve,
    invites: [] as unknown[],
    /** How many audience requests answer 503 before one succeeds. */
    curveFailures: 0,
  };
  const handler = (c: Call) => {
    const base = `/studies/${STUDY_ID}`;
    if (c.path === base && c.method === 'GET') return json(200, study({ viewers: { total: state.viewers.length, done: state.viewers.filter((v) => v.status === 'done').length, processing: 0, failed: 0 } }));
    if (c.path === base && c.method === 'DELETE') return new Response(null, { status: 204 });
    if (c.path === `${base}/viewers` && c.method === 'GET') return json(200, { items: state.viewers });
    if (c.path.startsWith(`${base}/viewers/`) && c.path.includes('/curve')) {
      const values: Record<string, (number | null)[]> = {};
      for (const name of state.curve.series) values[name] = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, null];
      return json(200, { study_id: STUDY_ID, viewer_id: VIEWER_2, label: 'Viewer 2', offset: -1.5, duration: 3, step: 0.5, t: state.curve.t, series: state.curve.series, values });
    }
    if (c.path.startsWith(`${base}/viewers/`) && c.method === 'DELETE') {
      state.viewers = state.viewers.filter((v) => !c.path.endsWith(v.id));
      return new Response(null, { status: 204 });
    }
    if (c.path.startsWith(`${base}/audience.csv`)) return new Response('t,n\n0,1\n', { status: 200, headers: { 'Content-Type': 'text/csv' } });
    if (c.path.startsWith(`${base}/audience`)) {
      if (state.curveFailures > 0) {
        state.curveFailures--;
        return json(503, { error: { code: 'unavailable', message: 'down' } });
      }
      return json(200, state.curve);
    }
    if (c.path === `${base}/content`) return json(200, { url: CONTENT_URL, expires_in: 900, content_type: 'video/mp4' });
    if (c.path === `${base}/invites` && c.method === 'GET') return json(200, { items: state.invites });
    if (c.path === `${base}/invites` && c.method === 'POST') {
      const inv = { id: '9'.repeat(32), created_at: '2026-12-07T12:00:00+00:00', expires_at: '2026-12-14T12:00:00+00:00', max_viewers: c.body.max_viewers, used: 0, revoked: false, expired: false };
      state.invites = [inv];
      return json(201, { id: inv.id, url: 'http://site.test/watch/tok-abc', token: 'tok-abc', expires_at: inv.expires_at, max_viewers: inv.max_viewers, used: 0 });
    }
    if (c.path.startsWith(`${base}/invites/`) && c.method === 'DELETE') {
      state.invites = state.invites.map((i) => ({ ...(i as object), revoked: true }));
      return new Response(null, { status: 204 });
    }
    if (c.path.endsWith('/retry') && c.method === 'POST') {
      state.viewers = state.viewers.map((v) => (c.path.includes(v.id) ? { ...v, status: 'queued' } : v));
      return json(200, {});
    }
    return json(404, { error: { code: 'not_found', message: c.path } });
  };
  return { state, handler };
}

async function openStudy(api = studyApi()) {
  const { client, calls } = await fakeApi(api.handler, { consent: { ...STATEMENT, viewer: VIEWER_STATEMENT } });
  const user = userEvent.setup();
  renderInApp(<App />, client, 'en', `/studies/${STUDY_ID}`);
  await screen.findByRole('heading', { name: 'Trailer A', level: 1 });
  await screen.findByTestId('audience-chart');
  return { api, client, calls, user };
}

withSizedLayout();
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('study page: the audience curve', () => {
  it('draws a mean line over a 95% band per expression, and the n strip; hover reads every series with band and n', async () => {
    const { client } = await openStudy();
    const chart = screen.getByTestId('audience-chart');
    const bands = [...chart.querySelectorAll('.audience-band-area .recharts-area-area')];
    expect(bands.map((b) => b.getAttribute('name'))).toEqual(['Angry 95%', 'Disgust 95%', 'Fear 95%', 'Happy 95%', 'Sad 95%', 'Surprise 95%', 'Neutral 95%']);
    // The happy band is drawn between its low and high from t = 0.5 (t = 0 has one viewer: no band).
    const happy = bands[3].getAttribute('d') ?? '';
    expect(happy.startsWith(`M${xAt(0.5)},`)).toBe(true);
    expect(chart.querySelectorAll('.recharts-line-curve')).toHaveLength(7);
    const strip = screen.getByTestId('audience-strip');
    expect(strip.querySelectorAll('.audience-n-area .recharts-area-area')).toHaveLength(1);
    expect(within(strip).getByText('Viewers with a face (n)')).toBeTruthy();
    expect(screen.getByTestId('viewers-included').textContent).toBe('Mean of 2 analysed viewers, with its 95% confidence band.');

    await act(async () => pointer(chart.querySelector('.recharts-wrapper')!, 'mousemove', xAt(2)));
    const tip = await screen.findByTestId('audience-tooltip');
    expect(tip.textContent).toContain('Time 0:02.0');
    const items = [...tip.querySelectorAll('li')];
    expect(items.map((li) => li.getAttribute('data-series'))[0]).toBe('happy'); // strongest first
    expect(items).toHaveLength(7);
    expect(items[0].textContent).toBe('Happy80.0%95%: 65%–95% · n = 2');

    // recharts throttles mouse moves (one per 16 ms, the rest on the trailing edge): wait for this one.
    await act(async () => pointer(chart.querySelector('.recharts-wrapper')!, 'mousemove', xAt(0)));
    await waitFor(() => {
      const first = screen.getByTestId('audience-tooltip').querySelector('li[data-series="happy"]')!;
      expect(first.textContent).toBe('Happy20.0%no band (n < 2) · n = 1');
    });
    client.clearTokens();
  });

  it('a top moment seeks the content video and the playback cursor follows; a click on the chart seeks too', async () => {
    const { client } = await openStudy();
    const video = screen.getByTestId('content-video') as HTMLVideoElement;
    expect(video.getAttribute('src')).toBe(CONTENT_URL);
    const moments = screen.getByRole('heading', { name: 'Top moments' }).parentElement!;
    const peak = within(moments).getByRole('button', { name: 'Jump to 0:02.0: Happy peak, 80%, 2 viewers' });
    await userEvent.click(peak);
    expect(video.currentTime).toBe(2);
    const cursor = screen.getByTestId('audience-chart').querySelector('.timeline-cursor') as HTMLElement;
    expect(parseFloat(cursor.style.left)).toBeCloseTo(xAt(2), 3);

    const wrapper = screen.getByTestId('audience-chart').querySelector('.recharts-wrapper')!;
    await act(async () => {
      pointer(wrapper, 'mousemove', xAt(1));
      pointer(wrapper, 'click', xAt(1));
    });
    expect(video.currentTime).toBe(1);
    expect(parseFloat(cursor.style.left)).toBeCloseTo(xAt(1), 3);
    client.clearTokens();
  });

  it('switches to attention and the reactions, and hides a series on request', async () => {
    const { client, user } = await openStudy();
    await user.click(screen.getByRole('button', { name: 'Reactions and attention' }));
    const chart = screen.getByTestId('audience-chart');
    expect([...chart.querySelectorAll('.audience-band-area .recharts-area-area')].map((b) => b.getAttribute('name'))).toEqual([
      'Attention 95%', 'Interest 95%', 'Boredom 95%', 'Confusion 95%', 'Smile 95%',
    ]);
    await user.click(screen.getByRole('button', { name: 'Boredom', pressed: true }));
    expect(chart.querySelectorAll('.audience-band-area .recharts-area-area')).toHaveLength(4);
    client.clearTokens();
  });

  it("drills down: a viewer's own curve over the audience, in the chart and its readout", async () => {
    const { client, calls, user } = await openStudy();
    const row = document.querySelector(`tr[data-viewer="${VIEWER_2}"]`) as HTMLElement;
    await user.click(within(row).getByRole('button', { name: 'Show curve Viewer 2' }));
    expect(calls.some((c) => c.path === `/studies/${STUDY_ID}/viewers/${VIEWER_2}/curve`)).toBe(true);
    const chart = screen.getByTestId('audience-chart');
    await waitFor(() => expect(chart.querySelectorAll('.audience-viewer-line .recharts-line-curve')).toHaveLength(7));
    expect((screen.getByLabelText('Viewer') as HTMLSelectElement).value).toBe(VIEWER_2);
    await act(async () => pointer(chart.querySelector('.recharts-wrapper')!, 'mousemove', xAt(2)));
    await waitFor(() =>
      expect(screen.getByTestId('audience-tooltip').querySelector('li[data-series="happy"]')!.textContent).toContain('Viewer 2 90%'),
    );
    client.clearTokens();
  });

  it('polls while a viewer is analysed and redraws the curve when the analysis ends', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const api = studyApi();
    api.state.viewers = [...api.state.viewers, viewer({ id: VIEWER_3, label: 'Viewer 3', status: 'processing', progress: { done: 1, total: 2 } })];
    const { client, calls } = await openStudy(api);
    expect(screen.getByText('Analysing: 1 of 2 segments')).toBeTruthy();
    const audienceCalls = () => calls.filter((c) => c.path === `/studies/${STUDY_ID}/audience`).length;
    expect(audienceCalls()).toBe(1);

    await act(() => vi.advanceTimersByTimeAsync(2000));
    expect(audienceCalls()).toBe(1); // nothing changed: the same curve
    api.state.viewers = api.state.viewers.map((v) => (v.id === VIEWER_3 ? { ...v, status: 'done', progress: { done: 2, total: 2 } } : v));
    api.state.curve = audience({ n: [3, 3, 3, 3, 3, 3, 0], viewers_included: 3 });
    await act(() => vi.advanceTimersByTimeAsync(2000));
    await waitFor(() => expect(screen.getByTestId('viewers-included').textContent).toContain('Mean of 3 analysed viewers'));
    expect(audienceCalls()).toBe(2);
    expect(screen.getByTestId('study-meta').textContent).toContain('3 of 3 analysed');
    const viewerPolls = () => calls.filter((c) => c.path === `/studies/${STUDY_ID}/viewers`).length;
    const before = viewerPolls();
    await act(() => vi.advanceTimersByTimeAsync(9_000));
    expect(viewerPolls()).toBe(before); // all done: only the gentle polling, every 10 s
    await act(() => vi.advanceTimersByTimeAsync(11_000));
    expect(viewerPolls()).toBe(before + 2);
    client.clearTokens();
  });

  it('with nobody analysed, polls gently while the page is shown: an invited viewer who joins later appears', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const api = studyApi();
    api.state.viewers = [];
    const { client, calls } = await openStudy(api);
    expect(await screen.findByText('No viewers yet.')).toBeTruthy();
    const viewerPolls = () => calls.filter((c) => c.path === `/studies/${STUDY_ID}/viewers`).length;
    const first = viewerPolls();
    await act(() => vi.advanceTimersByTimeAsync(9_000));
    expect(viewerPolls()).toBe(first);
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(viewerPolls()).toBe(first + 1);

    // A hidden tab asks nothing, however long; the viewer who joined meanwhile shows once it is shown again.
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    act(() => void document.dispatchEvent(new Event('visibilitychange')));
    api.state.viewers = [viewer({ id: VIEWER_3, label: 'Viewer 3', status: 'pending_upload', progress: { done: 0, total: 0 } })];
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(viewerPolls()).toBe(first + 1);
    expect(document.querySelector(`tr[data-viewer="${VIEWER_3}"]`)).toBeNull();
    visibility.mockReturnValue('visible');
    act(() => void document.dispatchEvent(new Event('visibilitychange')));
    await waitFor(() => expect(document.querySelector(`tr[data-viewer="${VIEWER_3}"]`)).not.toBeNull());
    expect(viewerPolls()).toBe(first + 2); // at once, not after another 10 s

    // Once its recording is analysed, the polling is quick again (2 s), and the study's counts follow.
    api.state.viewers = [{ ...api.state.viewers[0], status: 'processing', progress: { done: 0, total: 2 } }];
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => expect(screen.getByText('Analysing: 0 of 2 segments')).toBeTruthy());
    const quick = viewerPolls();
    await act(() => vi.advanceTimersByTimeAsync(2_000));
    expect(viewerPolls()).toBe(quick + 1);
    expect(screen.getByTestId('study-meta').textContent).toContain('0 of 1 analysed');
    client.clearTokens();
  });

  it('a curve that could not be loaded is asked for again on "Try again"', async () => {
    const api = studyApi();
    api.state.curveFailures = 1;
    const { client, calls } = await fakeApi(api.handler, { consent: { ...STATEMENT, viewer: VIEWER_STATEMENT } });
    const user = userEvent.setup();
    renderInApp(<App />, client, 'en', `/studies/${STUDY_ID}`);
    const panel = (await screen.findByRole('heading', { name: 'Audience over time' })).closest('section')!;
    expect(await within(panel).findByText('The service is temporarily unavailable. Try again in a moment.')).toBeTruthy();
    await user.click(within(panel).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('audience-chart')).toBeTruthy();
    expect(calls.filter((c) => c.path === `/studies/${STUDY_ID}/audience`)).toHaveLength(2);
    client.clearTokens();
  });

  it('exports the audience as audience.csv and audience.json, on the step the API answered with', async () => {
    const api = studyApi();
    api.state.curve = { ...api.state.curve, step: 0.75 }; // the API chose the step: the page asked for none
    const { client, calls, user } = await openStudy(api);
    expect(calls.some((c) => c.path === `/studies/${STUDY_ID}/audience`)).toBe(true);
    expect(calls.some((c) => c.path.includes('step='))).toBe(false);
    const names: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      names.push(this.download);
    });
    URL.createObjectURL = vi.fn(() => 'blob:x');
    URL.revokeObjectURL = vi.fn();
    await user.click(screen.getByRole('button', { name: 'Export CSV' }));
    await user.click(screen.getByRole('button', { name: 'Export JSON' }));
    await waitFor(() => expect(names).toEqual(['audience.csv', 'audience.json']));
    expect(calls.some((c) => c.path === `/studies/${STUDY_ID}/audience.csv?step=0.75`)).toBe(true);
    client.clearTokens();
  });
});

describe('study page: viewers and invites', () => {
  it('lists the viewers with source, offset, status and consent; retries a retryable failure; removes after asking', async () => {
    const api = studyApi();
    api.state.viewers = [
      ...api.state.viewers,
      viewer({ id: VIEWER_3, label: 'Viewer 3', status: 'failed', retryable: true, error_code: 'service_unavailable', error: 'x' }),
    ];
    const { client, calls, user } = await openStudy(api);
    const row1 = document.querySelector(`tr[data-viewer="${VIEWER_1}"]`) as HTMLElement;
    expect(row1.textContent).toContain('Invite link');
    expect(row1.textContent).toContain('Version viewer-2026-12-07 (ES)');
    const row2 = document.querySelector(`tr[data-viewer="${VIEWER_2}"]`) as HTMLElement;
    expect(row2.textContent).toContain('Added by you');
    expect(row2.textContent).toContain('-1.5 s');
    const row3 = document.querySelector(`tr[data-viewer="${VIEWER_3}"]`) as HTMLElement;
    expect(row3.textContent).toContain('the analysis service was unavailable');
    expect(within(row1).queryByRole('button', { name: /Try again/ })).toBeNull();

    await user.click(within(row3).getByRole('button', { name: 'Try again Viewer 3' }));
    expect(calls.some((c) => c.method === 'POST' && c.path === `/videos/${VIEWER_3}/retry`)).toBe(true);
    await waitFor(() => expect((document.querySelector(`tr[data-viewer="${VIEWER_3}"]`) as HTMLElement).textContent).toContain('Queued'));

    const confirm = vi.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);
    await user.click(within(row2).getByRole('button', { name: 'Remove Viewer 2' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await user.click(within(row2).getByRole('button', { name: 'Remove Viewer 2' }));
    expect(confirm).toHaveBeenLastCalledWith('Remove Viewer 2? Their recording and its analysis are deleted. This cannot be undone.');
    expect(calls.some((c) => c.method === 'DELETE' && c.path === `/studies/${STUDY_ID}/viewers/${VIEWER_2}`)).toBe(true);
    await waitFor(() => expect(document.querySelector(`tr[data-viewer="${VIEWER_2}"]`)).toBeNull());
    client.clearTokens();
  });

  it('creates an invite link (expiry, max viewers), copies it, lists it with used/max, revokes it', async () => {
    const { client, calls, user } = await openStudy();
    await screen.findByText('No invite links yet.');
    await user.selectOptions(screen.getByLabelText('Valid for'), '1 day');
    const max = screen.getByLabelText('Viewers at most');
    await user.clear(max);
    await user.type(max, '0');
    expect(screen.getByText('Enter a whole number from 1 to 1,000.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create link' }).hasAttribute('disabled')).toBe(true);
    await user.clear(max);
    await user.type(max, '12');
    await user.click(screen.getByRole('button', { name: 'Create link' }));
    expect(calls.find((c) => c.method === 'POST' && c.path.endsWith('/invites'))?.body).toEqual({ expires_in: 86400, max_viewers: 12 });

    const link = await screen.findByTestId('invite-link');
    expect((within(link).getByLabelText('Invite link') as HTMLInputElement).value).toBe('http://site.test/watch/tok-abc');
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText } });
    await user.click(within(link).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith('http://site.test/watch/tok-abc');
    expect(within(link).getByRole('status').textContent).toBe('Copied to the clipboard.');

    // No clipboard API (an insecure page): the old selection copy, and the link stays selected if that fails too.
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: undefined });
    const exec = vi.fn(() => false);
    (document as unknown as { execCommand: unknown }).execCommand = exec;
    await user.click(within(link).getByRole('button', { name: 'Copy' }));
    expect(exec).toHaveBeenCalledWith('copy');
    expect(within(link).getByRole('status').textContent).toMatch(/could not be copied automatically/);

    const row = await screen.findByText('0 of 12');
    expect(row.closest('tr')!.textContent).toContain('Active');
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    await user.click(within(row.closest('tr')!).getByRole('button', { name: 'Revoke' }));
    expect(calls.some((c) => c.method === 'DELETE' && c.path === `/studies/${STUDY_ID}/invites/${'9'.repeat(32)}`)).toBe(true);
    await waitFor(() => expect(screen.getByText('0 of 12').closest('tr')!.textContent).toContain('Revoked'));
    expect(screen.queryByTestId('invite-link')).toBeNull();
    client.clearTokens();
  });

  it('deletes the study after asking, and goes back to the studies', async () => {
    const { client, calls, user } = await openStudy();
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    await user.click(screen.getByRole('button', { name: 'Delete study' }));
    expect(calls.some((c) => c.method === 'DELETE' && c.path === `/studies/${STUDY_ID}`)).toBe(true);
    expect(await screen.findByRole('heading', { name: 'Studies', level: 1 })).toBeTruthy();
    client.clearTokens();
  });
});

describe('adding a viewer recording made elsewhere', () => {
  const webm = (bytes = 2048) => new File([new Uint8Array(bytes)], 'ana.webm', { type: 'video/webm' });

  it("shows the viewer statement, needs its box ticked, sends offset, label and the viewer's consent, uploads with progress", async () => {
    const created = { viewer: viewer({ id: VIEWER_3, status: 'pending_upload' }), upload: { url: 'http://s3.test/up', fields: { key: 'k' } }, expires_in: 900 };
    const { client, calls } = await fakeApi((c) => (c.method === 'POST' ? json(201, created) : json(404, {})), { consent: { ...STATEMENT, viewer: VIEWER_STATEMENT } });
    const sent: { file: Blob; url: string }[] = [];
    let finish!: () => void;
    const uploader: Uploader = (post, file, onProgress) =>
      new Promise((resolve) => {
        sent.push({ file, url: post.url });
        onProgress(file.size / 4, file.size);
        finish = () => resolve();
      });
    const onAdded = vi.fn();
    const user = userEvent.setup({ applyAccept: false });
    renderInApp(<AddViewer studyId={STUDY_ID} onAdded={onAdded} uploader={uploader} />, client, 'es');
    expect(await screen.findByText(VIEWER_STATEMENT.statements.es)).toBeTruthy();
    const submit = screen.getByRole('button', { name: 'Subir la grabación' });
    expect(submit.hasAttribute('disabled')).toBe(true);

    await user.upload(screen.getByLabelText('Grabación'), webm());
    await user.type(screen.getByLabelText('Etiqueta (opcional)'), 'Ana');
    const offset = screen.getByLabelText('Desfase (segundos)');
    await user.clear(offset);
    await user.type(offset, '2,5');
    await user.click(screen.getByLabelText('El espectador aceptó este texto.'));
    await user.click(submit);

    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: `/studies/${STUDY_ID}/viewers`,
      body: {
        filename: 'ana.webm',
        content_type: 'video/webm',
        size: 2048,
        offset: 2.5,
        label: 'Ana',
        consent: { given: true, text_version: VIEWER_STATEMENT.version, language: 'es' },
      },
    });
    expect(sent[0]).toMatchObject({ url: 'http://s3.test/up' });
    expect(sent[0].file.size).toBe(2048);
    expect(screen.getByRole('progressbar').getAttribute('aria-valuetext')).toMatch(/^Subiendo… 25\s%$/);
    await act(async () => finish());
    expect(onAdded).toHaveBeenCalledTimes(1);
    expect(screen.getByText('Grabación subida. Su análisis empieza ahora.')).toBeTruthy();
    expect((screen.getByLabelText('El espectador aceptó este texto.') as HTMLInputElement).checked).toBe(false);
    client.clearTokens();
  });

  it('a recording that never reaches storage removes its viewer again', async () => {
    const created = { viewer: viewer({ id: VIEWER_3, status: 'pending_upload' }), upload: { url: 'http://s3.test/up', fields: {} }, expires_in: 900 };
    const { client, calls } = await fakeApi((c) => (c.method === 'POST' ? json(201, created) : new Response(null, { status: 204 })), { consent: { ...STATEMENT, viewer: VIEWER_STATEMENT } });
    const { ApiError } = await import('../src/api/client');
    const uploader: Uploader = async () => {
      throw new ApiError('upload_failed', 'down');
    };
    const user = userEvent.setup({ applyAccept: false });
    renderInApp(<AddViewer studyId={STUDY_ID} onAdded={vi.fn()} uploader={uploader} />, client);
    await screen.findByText(VIEWER_STATEMENT.statements.en);
    await user.upload(screen.getByLabelText('Recording'), webm());
    await user.click(screen.getByLabelText('The viewer agreed to this statement.'));
    await user.click(screen.getByRole('button', { name: 'Upload recording' }));
    expect(await screen.findByText('The upload failed. Check your connection and try again.')).toBeTruthy();
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === `/studies/${STUDY_ID}/viewers/${VIEWER_3}`)).toBe(true));
    client.clearTokens();
  });
});
