// @vitest-environment happy-dom
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Route, Routes } from 'react-router-dom';
import { ApiClient, ApiError, memoryStore } from '../src/api/client';
import type { PresignedPost } from '../src/api/types';
import { App } from '../src/App';
import type { MediaDeps } from '../src/lib/recording';
import type { Uploader } from '../src/lib/useUpload';
import { WatchPage } from '../src/pages/Watch';
import { json, renderInApp } from './support/app';

const TOKEN = 'tok-Abc_123';
const VID = '7'.repeat(32);
const POST: PresignedPost = { url: 'http://s3.test/uploads', fields: { key: `uploads/u/${VID}/recording.webm` } };
const INFO = {
  study: { title: 'Trailer A', duration: 12, content_type: 'video/mp4' },
  consent: {
    version: 'viewer-2026-12-07',
    statements: {
      en: 'I agree that my face is filmed while I watch this content.',
      es: 'Acepto que se grabe mi rostro mientras veo este contenido.',
    },
  },
  expires_at: '2026-12-14T12:00:00+00:00',
};

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
}

/** The invite routes; `log` records the order of what happened (the API's and the camera's). */
function inviteApi(log: string[], overrides: Partial<Record<string, () => Response>> = {}) {
  const calls: Req[] = [];
  let status = 'queued';
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const r: Req = {
      method: init?.method ?? 'GET',
      path: String(url).replace('http://api.test', ''),
      headers: { ...((init?.headers ?? {}) as Record<string, string>) },
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(r);
    const key = `${r.method} ${r.path}`;
    if (overrides[key]) return overrides[key]!();
    if (key === 'GET /invite') return json(200, INFO);
    if (key === 'GET /invite/content') return json(200, { url: 'http://s3.test/content.mp4', expires_in: 900, content_type: 'video/mp4' });
    if (key === 'POST /invite/viewers') {
      log.push('join');
      return json(201, { viewer: { id: VID, label: 'Viewer 3' }, withdraw_token: 'wd-secret' });
    }
    if (key === `POST /invite/viewers/${VID}/upload`) return json(201, { upload: POST, expires_in: 900 });
    if (key === `GET /invite/viewers/${VID}`) {
      const s = { id: VID, label: 'Viewer 3', status, progress: { done: 0, total: 0 } };
      status = 'processing';
      return json(200, s);
    }
    if (key === `DELETE /invite/viewers/${VID}`) return new Response(null, { status: 204 });
    return json(404, { error: { code: 'not_found', message: r.path } });
  }) as typeof globalThis.fetch;
  const client = new ApiClient({ baseUrl: 'http://api.test', fetch, store: memoryStore() });
  return { client, calls };
}

/** A camera (one track) and a MediaRecorder that records `bytes` bytes, both fakes the test drives. */
function fakeMedia(log: string[], { bytes = 3000, supported = ['video/webm;codecs=vp8', 'video/webm'] } = {}) {
  const track = { stopped: false, stop() { this.stopped = true; } };
  // A real (happy-dom) MediaStream, so the preview accepts it as its srcObject, with one fake track.
  const stream = new MediaStream();
  stream.getTracks = () => [track] as unknown as MediaStreamTrack[];
  const getUserMedia = vi.fn(async (_c: MediaStreamConstraints) => {
    log.push('camera');
    return stream;
  });
  const recorders: FakeRecorder[] = [];
  class FakeRecorder {
    static isTypeSupported = (t: string) => supported.includes(t);
    state: 'inactive' | 'recording' | 'paused' = 'inactive';
    mimeType: string;
    options: MediaRecorderOptions | undefined;
    ondataavailable: ((e: { data: Blob }) => void) | null = null;
    onstop: (() => void) | null = null;
    constructor(s: MediaStream, options?: MediaRecorderOptions) {
      expect(s).toBe(stream);
      this.options = options;
      this.mimeType = options?.mimeType ?? 'video/webm';
      recorders.push(this);
    }
    start() {
      log.push('record');
      this.state = 'recording';
    }
    pause() {
      this.state = 'paused';
    }
    resume() {
      this.state = 'recording';
    }
    stop() {
      this.state = 'inactive';
      this.ondataavailable?.({ data: new Blob([new Uint8Array(bytes)], { type: this.mimeType }) });
      this.onstop?.();
    }
  }
  const media: MediaDeps = { getUserMedia, MediaRecorder: FakeRecorder as unknown as typeof MediaRecorder };
  return { media, getUserMedia, track, recorders };
}

/** An uploader that reports half the blob sent, then waits for the test to finish or fail it. */
function gatedUploader() {
  const sent: { post: PresignedPost; file: Blob }[] = [];
  let settle!: (err?: Error) => void;
  const uploader: Uploader = (post, file, onProgress) =>
    new Promise<void>((resolve, reject) => {
      sent.push({ post, file });
      onProgress(file.size / 2, file.size);
      settle = (err) => (err ? reject(err) : resolve());
    });
  return { uploader, sent, finish: (err?: Error) => act(async () => settle(err)) };
}

function renderWatch(client: ApiClient, media: MediaDeps | null, uploader?: Uploader, locale: 'en' | 'es' = 'en') {
  return renderInApp(
    <Routes>
      <Route path="/watch/:token" element={<WatchPage media={media} uploader={uploader} />} />
    </Routes>,
    client,
    locale,
    `/watch/${TOKEN}`,
  );
}

/** Agrees to the statement, waits for the content to be ready and starts the recording. */
async function agreeAndStart(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole('button', { name: 'Yes, I agree' }));
  const start = await screen.findByRole('button', { name: 'Start' });
  await waitFor(() => expect(start.hasAttribute('disabled')).toBe(false));
  await user.click(start);
}

/** The media elements whose play() was called, in order. */
let played: HTMLMediaElement[];
beforeEach(() => {
  played = [];
  HTMLMediaElement.prototype.play = async function (this: HTMLMediaElement) {
    played.push(this);
  };
  HTMLMediaElement.prototype.pause = vi.fn();
});
afterEach(() => {
  cleanup();
  window.sessionStorage.clear();
  vi.restoreAllMocks();
});

describe('the viewer page (/watch/:token)', () => {
  it('No: a polite end, nothing recorded and no camera asked', async () => {
    const log: string[] = [];
    const { client, calls } = inviteApi(log);
    const { media, getUserMedia } = fakeMedia(log);
    const user = userEvent.setup();
    renderWatch(client, media);
    expect(await screen.findByRole('heading', { name: 'Trailer A', level: 1 })).toBeTruthy();
    expect(screen.getByTestId('viewer-statement').textContent).toBe(INFO.consent.statements.en);
    expect(screen.queryByRole('navigation')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'No, thanks' }));
    expect(screen.getByRole('heading', { name: 'Thank you for your time' })).toBeTruthy();
    expect(screen.getByText('Nothing was recorded and your camera was not turned on. You can close this page.')).toBeTruthy();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /invite']);
    expect(getUserMedia).not.toHaveBeenCalled();
    expect(window.sessionStorage.length).toBe(0);
  });

  it('Yes: consent recorded before the camera, the content plays while recording, the recording is uploaded by its size; thanks, status, withdraw', async () => {
    const log: string[] = [];
    const { client, calls } = inviteApi(log);
    const { media, getUserMedia, track, recorders } = fakeMedia(log);
    const gate = gatedUploader();
    const user = userEvent.setup();
    renderWatch(client, media, gate.uploader);
    await user.click(await screen.findByRole('button', { name: 'Yes, I agree' }));

    expect(await screen.findByRole('heading', { name: 'Ready when you are' })).toBeTruthy();
    expect(log).toEqual(['join', 'camera']);
    expect(calls.find((c) => c.path === '/invite/viewers')!.body).toEqual({
      consent: { given: true, text_version: INFO.consent.version, language: 'en' },
    });
    expect(getUserMedia).toHaveBeenCalledWith({ audio: false, video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' } });
    expect(JSON.parse(window.sessionStorage.getItem(`emotionfy.watch.${TOKEN}`)!)).toEqual({
      viewerId: VID, withdrawToken: 'wd-secret', label: 'Viewer 3', stage: 'joined',
    });
    const preview = screen.getByTestId('camera-preview') as HTMLVideoElement;
    expect(preview.srcObject).toBe(await getUserMedia.mock.results[0].value);
    const start = screen.getByRole('button', { name: 'Start' });
    await waitFor(() => expect(start.hasAttribute('disabled')).toBe(false));

    await user.click(start);
    expect(recorders).toHaveLength(1);
    expect(recorders[0].options).toEqual({ mimeType: 'video/webm;codecs=vp8' }); // vp9 unsupported here
    expect(log).toEqual(['join', 'camera', 'record']);
    const content = screen.getByTestId('watch-content') as HTMLVideoElement;
    expect(played.filter((el) => el === content)).toHaveLength(1);
    expect(content.currentTime).toBe(0);
    expect(content.getAttribute('src')).toBe('http://s3.test/content.mp4');
    expect(screen.getByRole('status').textContent).toContain('Recording: the camera is on until the video ends.');
    // Buffering pauses the recording (recording time stays content time), playing resumes it.
    fireEvent(content, new Event('waiting'));
    expect(recorders[0].state).toBe('paused');
    fireEvent(content, new Event('playing'));
    expect(recorders[0].state).toBe('recording');

    fireEvent(content, new Event('ended'));
    await waitFor(() => expect(gate.sent).toHaveLength(1));
    const upload = calls.find((c) => c.path === `/invite/viewers/${VID}/upload`)!;
    expect(upload.body).toEqual({ filename: 'recording.webm', content_type: 'video/webm', size: 3000 });
    expect(upload.headers['X-Withdraw-Token']).toBe('wd-secret');
    expect(gate.sent[0].post).toEqual(POST);
    expect(gate.sent[0].file.size).toBe(3000);
    expect(track.stopped).toBe(true);
    expect(screen.getByRole('progressbar').getAttribute('aria-valuetext')).toBe('Uploading… 50%');

    await gate.finish();
    expect(await screen.findByRole('heading', { name: 'Thank you!' })).toBeTruthy();
    expect((await screen.findByTestId('watch-status')).textContent).toContain('Queued');
    expect(JSON.parse(window.sessionStorage.getItem(`emotionfy.watch.${TOKEN}`)!).stage).toBe('uploaded');
    for (const c of calls) {
      expect(c.headers['X-Invite-Token']).toBe(TOKEN);
      expect(c.headers.Authorization).toBeUndefined();
    }

    vi.spyOn(window, 'confirm').mockReturnValue(true);
    await user.click(screen.getByRole('button', { name: 'Withdraw and delete my recording' }));
    expect(await screen.findByRole('heading', { name: 'Withdrawn' })).toBeTruthy();
    const del = calls.find((c) => c.method === 'DELETE')!;
    expect(del).toMatchObject({ path: `/invite/viewers/${VID}` });
    expect(del.headers['X-Withdraw-Token']).toBe('wd-secret');
    expect(window.sessionStorage.getItem(`emotionfy.watch.${TOKEN}`)).toBeNull();
  });

  it('the Stop button ends the recording early and sends what was recorded', async () => {
    const log: string[] = [];
    const { client, calls } = inviteApi(log);
    const { media } = fakeMedia(log, { bytes: 1234, supported: ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'] });
    const gate = gatedUploader();
    const user = userEvent.setup();
    renderWatch(client, media, gate.uploader);
    await agreeAndStart(user);
    await user.click(screen.getByRole('button', { name: 'Stop now' }));
    await waitFor(() => expect(gate.sent).toHaveLength(1));
    expect(gate.sent[0].file.type).toBe('video/webm;codecs=vp9');
    expect(calls.find((c) => c.path.endsWith('/upload'))!.body.size).toBe(1234);
  });

  it('a reload of the thank-you page still shows the status and withdraws, even after the link ended', async () => {
    window.sessionStorage.setItem(`emotionfy.watch.${TOKEN}`, JSON.stringify({ viewerId: VID, withdrawToken: 'wd-secret', label: 'Viewer 3', stage: 'uploaded' }));
    const log: string[] = [];
    const { client, calls } = inviteApi(log, { 'GET /invite': () => json(410, { error: { code: 'invite_expired', message: 'expired' } }) });
    const { media, getUserMedia } = fakeMedia(log);
    const user = userEvent.setup();
    renderWatch(client, media);
    expect(await screen.findByRole('heading', { name: 'Thank you!' })).toBeTruthy();
    await screen.findByTestId('watch-status');
    expect(calls.some((c) => c.path === '/invite')).toBe(false);
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    await user.click(screen.getByRole('button', { name: 'Withdraw and delete my recording' }));
    expect(await screen.findByRole('heading', { name: 'Withdrawn' })).toBeTruthy();
    expect(getUserMedia).not.toHaveBeenCalled();
  });

  it('an upload that fails can be retried with the same (one) upload of this viewer', async () => {
    const log: string[] = [];
    const { client, calls } = inviteApi(log);
    const { media } = fakeMedia(log);
    const gate = gatedUploader();
    const user = userEvent.setup();
    renderWatch(client, media, gate.uploader);
    await agreeAndStart(user);
    fireEvent(screen.getByTestId('watch-content'), new Event('ended'));
    await waitFor(() => expect(gate.sent).toHaveLength(1));
    await gate.finish(new ApiError('upload_failed', 'offline'));
    expect(await screen.findByRole('heading', { name: 'Your recording was not sent' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toBe('The upload failed. Check your connection and try again.');
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(gate.sent).toHaveLength(2));
    expect(gate.sent[1].file).toBe(gate.sent[0].file);
    expect(gate.sent[1].post).toEqual(POST);
    await gate.finish();
    expect(await screen.findByRole('heading', { name: 'Thank you!' })).toBeTruthy();
    expect(calls.filter((c) => c.path.endsWith('/upload'))).toHaveLength(1);
  });

  it('leaving the page turns the camera off', async () => {
    const log: string[] = [];
    const { client } = inviteApi(log);
    const { media, track } = fakeMedia(log);
    const user = userEvent.setup();
    const view = renderWatch(client, media);
    await user.click(await screen.findByRole('button', { name: 'Yes, I agree' }));
    await screen.findByRole('heading', { name: 'Ready when you are' });
    expect(track.stopped).toBe(false);
    view.unmount();
    expect(track.stopped).toBe(true);
  });

  it('in Spanish: the statement in Spanish and the consent recorded as es; the language can be switched on the page', async () => {
    const log: string[] = [];
    const { client, calls } = inviteApi(log);
    const { media } = fakeMedia(log);
    const user = userEvent.setup();
    renderWatch(client, media, undefined, 'en');
    await screen.findByTestId('viewer-statement');
    await user.selectOptions(screen.getByLabelText('Language'), 'es');
    expect(screen.getByTestId('viewer-statement').textContent).toBe(INFO.consent.statements.es);
    await user.click(screen.getByRole('button', { name: 'Sí, acepto' }));
    await screen.findByRole('heading', { name: 'Cuando quieras' });
    expect(calls.find((c) => c.path === '/invite/viewers')!.body.consent.language).toBe('es');
  });
});

describe('the viewer page: links that cannot be used and cameras that cannot be had', () => {
  const cases: [string, () => Response, string, string][] = [
    ['401', () => json(401, { error: { code: 'invite_invalid', message: 'x' } }), 'This link does not work', 'Check that you opened the whole link you received.'],
    ['410 expired', () => json(410, { error: { code: 'invite_expired', message: 'x' } }), 'This invitation has ended', 'The invitation expired. Ask the person who sent it for a new link.'],
    ['410 revoked', () => json(410, { error: { code: 'invite_revoked', message: 'x' } }), 'This invitation was withdrawn', 'The person who sent it withdrew this invitation.'],
  ];
  for (const [name, answer, title, text] of cases) {
    it(`GET /invite ${name}: says so, asks nothing`, async () => {
      const log: string[] = [];
      const { client } = inviteApi(log, { 'GET /invite': answer });
      const { media, getUserMedia } = fakeMedia(log);
      renderWatch(client, media);
      expect(await screen.findByRole('heading', { name: title })).toBeTruthy();
      expect(screen.getByText(text)).toBeTruthy();
      expect(screen.queryByRole('button', { name: 'Yes, I agree' })).toBeNull();
      expect(getUserMedia).not.toHaveBeenCalled();
    });
  }

  it('409 when joining (the study is full): says so, no camera asked, nothing stored', async () => {
    const log: string[] = [];
    const { client } = inviteApi(log, { 'POST /invite/viewers': () => json(409, { error: { code: 'invite_full', message: 'full' } }) });
    const { media, getUserMedia } = fakeMedia(log);
    const user = userEvent.setup();
    renderWatch(client, media);
    await user.click(await screen.findByRole('button', { name: 'Yes, I agree' }));
    expect(await screen.findByRole('heading', { name: 'This study is full' })).toBeTruthy();
    expect(screen.getByText('Every place in this study is taken. Thank you for your interest.')).toBeTruthy();
    expect(getUserMedia).not.toHaveBeenCalled();
    expect(window.sessionStorage.length).toBe(0);
  });

  it('a refused camera: says how to allow it, tries again, and offers to withdraw the consent given', async () => {
    const log: string[] = [];
    const { client, calls } = inviteApi(log);
    const { media, getUserMedia } = fakeMedia(log);
    getUserMedia.mockImplementationOnce(async () => {
      throw Object.assign(new Error('denied'), { name: 'NotAllowedError' });
    });
    const user = userEvent.setup();
    renderWatch(client, media);
    await user.click(await screen.findByRole('button', { name: 'Yes, I agree' }));
    expect(await screen.findByRole('heading', { name: 'The camera was not allowed' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Withdraw and delete my recording' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { name: 'Ready when you are' })).toBeTruthy();
    expect(getUserMedia).toHaveBeenCalledTimes(2);
    expect(calls.filter((c) => c.path === '/invite/viewers')).toHaveLength(1);
  });

  it('no camera at all (no media devices): says so', async () => {
    const log: string[] = [];
    const { client } = inviteApi(log);
    const user = userEvent.setup();
    renderWatch(client, null);
    await user.click(await screen.findByRole('button', { name: 'Yes, I agree' }));
    expect(await screen.findByRole('heading', { name: 'No camera available' })).toBeTruthy();
  });

  it('is public: the app renders it without a session and without its navigation', async () => {
    const log: string[] = [];
    const { client } = inviteApi(log);
    renderInApp(<App />, client, 'en', `/watch/${TOKEN}`);
    expect(await screen.findByRole('heading', { name: 'Trailer A', level: 1 })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Studies' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });
});
