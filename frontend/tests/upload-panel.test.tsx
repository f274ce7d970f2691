// @vitest-environment happy-dom
import { act, cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/client';
import type { PresignedPost } from '../src/api/types';
import { UploadPanel } from '../src/components/UploadPanel';
import type { Uploader } from '../src/lib/useUpload';
import { configFrom, fakeApi, json, renderInApp, STATEMENT, video, type Call } from './support/app';

const ID = 'c'.repeat(32);
const POST: PresignedPost = { url: 'http://s3.test/uploads', fields: { key: `uploads/${ID}` } };

/** The API of one upload: POST /videos creates it, GET answers from `states` in turn, DELETE removes it. */
function uploadApi(states: Parameters<typeof video>[0][] = [{ status: 'done' }]) {
  let polls = 0;
  return (call: Call) => {
    if (call.method === 'POST' && call.path === '/videos') {
      return json(201, { video: video({ id: ID, title: call.body.title ?? call.body.filename, status: 'pending_upload' }), upload: POST, expires_in: 900 });
    }
    if (call.method === 'GET' && call.path === `/videos/${ID}`) return json(200, video({ id: ID, ...states[Math.min(polls++, states.length - 1)] }));
    if (call.method === 'DELETE') return new Response(null, { status: 204 });
    return json(404, { error: { code: 'not_found', message: call.path } });
  };
}

/** An uploader that reports half the file sent, then waits for the test to finish or fail it. */
function gatedUploader() {
  let finish!: (err?: Error) => void;
  const sent: { post: PresignedPost; file: Blob }[] = [];
  const uploader: Uploader = (post, file, onProgress, signal) =>
    new Promise<void>((resolve, reject) => {
      sent.push({ post, file });
      onProgress(file.size / 2, file.size);
      finish = (err) => (err ? reject(err) : resolve());
      signal?.addEventListener('abort', () => reject(new ApiError('upload_aborted', 'cancelled')));
    });
  return { uploader, sent, finish: (err?: Error) => act(async () => finish(err)) };
}

const mp4 = (bytes = 1000) => new File([new Uint8Array(bytes)], 'viewer.mp4', { type: 'video/mp4' });
const tick = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

// user-event waits on happy-dom's own timers: it runs with real ones, the polling part with fake ones.
function setup() {
  return userEvent.setup({ applyAccept: false });
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('UploadPanel', () => {
  it('uploads the chosen file with progress, then follows the analysis until the results can be opened', async () => {
    const { client, calls } = await fakeApi(uploadApi([{ status: 'processing', progress: { done: 1, total: 2 } }, { status: 'done' }]));
    const gate = gatedUploader();
    const onVideo = vi.fn();
    const user = setup();
    renderInApp(<UploadPanel onVideo={onVideo} onRemoved={vi.fn()} onTracking={vi.fn()} uploader={gate.uploader} />, client);

    await user.upload(screen.getByLabelText('Video file'), mp4());
    expect(screen.getByText('Selected: viewer.mp4 (1,000 B)')).toBeTruthy();
    await user.type(screen.getByLabelText('Title'), 'Trailer, viewer 1');
    await user.click(screen.getByLabelText('Amazon Rekognition'));
    const submit = screen.getByRole('button', { name: 'Upload and analyse' });
    expect(screen.getByText(STATEMENT.statements.en)).toBeTruthy();
    expect(submit.hasAttribute('disabled')).toBe(true);
    await user.click(submit);
    expect(calls).toHaveLength(0);
    await user.click(screen.getByLabelText('The people in this video agreed to be filmed and analysed.'));
    expect(submit.hasAttribute('disabled')).toBe(false);
    await user.click(submit);

    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: '/videos',
      body: {
        filename: 'viewer.mp4',
        content_type: 'video/mp4',
        size: 1000,
        title: 'Trailer, viewer 1',
        backend: 'rekognition',
        consent: { given: true, text_version: STATEMENT.version, language: 'en' },
      },
    });
    expect(gate.sent[0].post).toEqual(POST);
    expect(screen.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('aria-valuetext')).toBe('Uploading… 50%');
    expect(onVideo).toHaveBeenCalledWith(expect.objectContaining({ id: ID, status: 'pending_upload' }));

    vi.useFakeTimers();
    await gate.finish();
    expect(screen.getByText('Queued for analysis…', { selector: '.progress-text' })).toBeTruthy();
    await tick(1000);
    expect(screen.getByText('Analysing: 1 of 2 segments', { selector: '.progress-text' })).toBeTruthy();
    await tick(1000);
    expect(screen.getByText('Analysis complete.', { selector: '.progress-text' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open results' }).getAttribute('href')).toBe(`/videos/${ID}`);
    expect(onVideo).toHaveBeenLastCalledWith(expect.objectContaining({ id: ID, status: 'done' }));
    await tick(5000);
    expect(calls.filter((c) => c.method === 'GET')).toHaveLength(2);
    vi.useRealTimers();

    await user.click(screen.getByRole('button', { name: 'Upload another video' }));
    expect(screen.getByLabelText('Video file')).toBeTruthy();
    expect(screen.queryByText(/Selected:/)).toBeNull();
    // the next video needs its own consent
    expect((screen.getByRole('checkbox') as HTMLInputElement).checked).toBe(false);
    expect(screen.getByRole('button', { name: 'Upload and analyse' }).hasAttribute('disabled')).toBe(true);
    client.clearTokens();
  });

  it('refuses a file that is not a video before sending anything', async () => {
    const { client, calls } = await fakeApi(uploadApi());
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} />, client);
    const input = screen.getByLabelText('Video file');
    await user.upload(input, new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    expect(screen.getByRole('alert').textContent).toBe('That file is not a video.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await user.click(screen.getByRole('checkbox'));
    await user.click(screen.getByRole('button', { name: 'Upload and analyse' }));
    expect(screen.getByText('Choose a video file first.')).toBeTruthy();
    expect(calls).toHaveLength(0);
    client.clearTokens();
  });

  it('shows the statement in the UI language and sends consent in that language', async () => {
    const { client, calls } = await fakeApi(uploadApi());
    const gate = gatedUploader();
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} uploader={gate.uploader} />, client, 'es');
    await screen.findByText(STATEMENT.statements.es);
    expect(screen.queryByText(STATEMENT.statements.en)).toBeNull();
    expect(screen.getByText(`Versión del texto: ${STATEMENT.version}`)).toBeTruthy();
    await user.upload(screen.getByLabelText('Archivo de vídeo'), mp4());
    await user.click(screen.getByRole('checkbox', { name: 'Las personas de este vídeo aceptaron ser grabadas y analizadas.' }));
    await user.click(screen.getByRole('button', { name: 'Subir y analizar' }));
    expect(calls[0].body.consent).toEqual({ given: true, text_version: STATEMENT.version, language: 'es' });
    client.clearTokens();
  });

  it('without the statement (GET /consent failed) the upload stays disabled, with a retry', async () => {
    let up = false;
    const { client } = await fakeApi(
      (c) => (c.path === '/consent' ? (up ? json(200, STATEMENT) : json(503, { error: { code: 'unavailable', message: 'x' } })) : json(404, {})),
      { consent: null },
    );
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} />, client);
    await screen.findByRole('button', { name: 'Try again' });
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.getByRole('button', { name: 'Upload and analyse' }).hasAttribute('disabled')).toBe(true);
    up = true;
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    await screen.findByText(STATEMENT.statements.en);
    client.clearTokens();
  });

  it('a statement changed since it was shown: the new one is fetched and must be ticked again', async () => {
    let version = STATEMENT.version;
    const { client, calls } = await fakeApi(
      (c) => {
        if (c.path === '/consent') return json(200, { ...STATEMENT, version });
        return json(400, { error: { code: 'consent_version_unknown', message: 'x' } });
      },
      { consent: null },
    );
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} />, client);
    await screen.findByText(STATEMENT.statements.en);
    await user.upload(screen.getByLabelText('Video file'), mp4());
    await user.click(screen.getByRole('checkbox'));
    version = '2027-01-01';
    await user.click(screen.getByRole('button', { name: 'Upload and analyse' }));
    expect(screen.getByRole('alert').textContent).toMatch(/consent statement has changed/);
    await screen.findByText('Statement version 2027-01-01');
    expect((screen.getByRole('checkbox') as HTMLInputElement).checked).toBe(false);
    expect(calls.filter((c) => c.path === '/consent')).toHaveLength(2);
    client.clearTokens();
  });

  it('checks the size against the limit /config.json states, and leaves it to the API when none is stated', async () => {
    // Any limit the servers write works the same: the test takes it from the configuration document.
    const config = await configFrom({ apiUrl: 'http://api.test', limits: { maxUploadBytes: 1536, videosPerDay: 40 } });
    const limit = config.limits.maxUploadBytes!;
    const { client, calls } = await fakeApi(uploadApi(), { config });
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} />, client);
    expect(screen.getByText('Up to 1.5 KB.')).toBeTruthy();
    await user.upload(screen.getByLabelText('Video file'), mp4(limit + 512));
    expect(screen.getByRole('alert').textContent).toBe('This video is 2 KB; the largest video you can upload is 1.5 KB.');
    expect(screen.queryByText(/Selected:/)).toBeNull();
    await user.upload(screen.getByLabelText('Video file'), mp4(limit));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByText(/^Selected: viewer.mp4/)).toBeTruthy();
    expect(calls).toHaveLength(0);
    cleanup();
    client.clearTokens();

    const unconfigured = await fakeApi(uploadApi(), { config: await configFrom({ apiUrl: 'http://api.test' }) });
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} />, unconfigured.client);
    expect(screen.queryByText(/^Up to/)).toBeNull();
    await user.upload(screen.getByLabelText('Video file'), mp4(limit * 10));
    expect(screen.getByText(/^Selected: viewer.mp4/)).toBeTruthy();
    unconfigured.client.clearTokens();
  });

  it('when the file does not reach storage, says why and deletes the record it created', async () => {
    const { client, calls } = await fakeApi(uploadApi());
    const gate = gatedUploader();
    const onRemoved = vi.fn();
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={onRemoved} onTracking={vi.fn()} uploader={gate.uploader} />, client, 'es');
    await user.upload(screen.getByLabelText('Archivo de vídeo'), mp4());
    await user.click(screen.getByLabelText('Las personas de este vídeo aceptaron ser grabadas y analizadas.'));
    await user.click(screen.getByRole('button', { name: 'Subir y analizar' }));
    await gate.finish(new ApiError('upload_denied', 'S3 answered 403', 403));
    expect(screen.getByRole('alert').textContent).toMatch(/^El almacenamiento rechazó la subida/);
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', path: `/videos/${ID}` });
    expect(onRemoved).toHaveBeenCalledWith(ID);
    // the form is back, with the chosen file, for another try
    expect(screen.getByRole('button', { name: 'Subir y analizar' })).toBeTruthy();
    client.clearTokens();
  });

  it('cancelling the upload stops it and removes the record', async () => {
    const { client, calls } = await fakeApi(uploadApi());
    const gate = gatedUploader();
    const user = setup();
    renderInApp(<UploadPanel onVideo={vi.fn()} onRemoved={vi.fn()} onTracking={vi.fn()} uploader={gate.uploader} />, client);
    await user.upload(screen.getByLabelText('Video file'), mp4());
    await user.click(screen.getByRole('checkbox'));
    await user.click(screen.getByRole('button', { name: 'Upload and analyse' }));
    await user.click(screen.getByRole('button', { name: 'Cancel upload' }));
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', path: `/videos/${ID}` });
    client.clearTokens();
  });
});
