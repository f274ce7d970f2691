// @vitest-environment happy-dom
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Route, Routes } from 'react-router-dom';
import { ApiError } from '../src/api/client';
import type { PresignedPost } from '../src/api/types';
import { App } from '../src/App';
import { readVideoDuration } from '../src/lib/videoDuration';
import type { Uploader } from '../src/lib/useUpload';
import { CreateStudy } from '../src/pages/Studies';
import { fakeApi, json, renderInApp, type Call } from './support/app';
import { study, STUDY_ID } from './support/studies';

const POST: PresignedPost = { url: 'http://s3.test/content', fields: { key: `content/u/${STUDY_ID}/trailer.mp4` } };
const mp4 = (bytes = 5000) => new File([new Uint8Array(bytes)], 'trailer.mp4', { type: 'video/mp4' });

function studiesApi(items = [study(), study({ id: 'f'.repeat(32), title: 'Trailer B', content: { ...study().content, duration: 95 }, viewers: { total: 5, done: 3, processing: 1, failed: 1 } })]) {
  return (c: Call) => {
    if (c.path === '/studies' && c.method === 'GET') return json(200, { items, next: null });
    if (c.path === '/studies' && c.method === 'POST') return json(201, { study: study({ title: c.body.title, viewers: { total: 0, done: 0, processing: 0, failed: 0 } }), upload: POST, expires_in: 900 });
    if (c.method === 'DELETE') return new Response(null, { status: 204 });
    if (c.path === `/studies/${STUDY_ID}`) return json(200, study());
    return json(404, { error: { code: 'not_found', message: c.path } });
  };
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('the Studies area', () => {
  it('is linked from the header and lists the studies: title, content duration, viewers done of total', async () => {
    const { client } = await fakeApi(studiesApi());
    const user = userEvent.setup();
    renderInApp(<App />, client, 'en', '/stats');
    await user.click(await screen.findByRole('link', { name: 'Studies' }));
    expect(await screen.findByRole('heading', { name: 'Studies', level: 1 })).toBeTruthy();
    const b = await screen.findByRole('link', { name: /^Trailer B/ });
    expect(b.getAttribute('href')).toBe(`/studies/${'f'.repeat(32)}`);
    expect(b.textContent).toContain('Content 1:35');
    expect(b.textContent).toContain('3 of 5 analysed');
    expect(screen.getByRole('link', { name: 'Compare studies' }).getAttribute('href')).toBe('/studies/compare');
    client.clearTokens();
  });

  it('in Spanish, with no studies yet', async () => {
    const { client } = await fakeApi(studiesApi([]));
    renderInApp(<App />, client, 'es', '/studies');
    expect(await screen.findByText('Aún no hay estudios. Crea uno arriba.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Estudios' })).toBeTruthy();
    client.clearTokens();
  });
});

describe('creating a study', () => {
  function renderCreate(client: Parameters<typeof renderInApp>[1], uploader: Uploader, readDuration: (f: Blob) => Promise<number>) {
    return renderInApp(
      <Routes>
        <Route path="/studies" element={<CreateStudy uploader={uploader} readDuration={readDuration} />} />
        <Route path="/studies/:id" element={<p>study page</p>} />
      </Routes>,
      client,
      'en',
      '/studies',
    );
  }

  it('reads the content duration in the browser, POSTs the study with it, uploads the content with progress, opens the study', async () => {
    const { client, calls } = await fakeApi(studiesApi());
    const sent: { post: PresignedPost; file: Blob }[] = [];
    let finish!: () => void;
    const uploader: Uploader = (post, file, onProgress) =>
      new Promise((resolve) => {
        sent.push({ post, file });
        onProgress(file.size * 0.4, file.size);
        finish = () => resolve();
      });
    const readDuration = vi.fn(async () => 12.48);
    const user = userEvent.setup({ applyAccept: false });
    renderCreate(client, uploader, readDuration);

    await user.click(screen.getByRole('button', { name: 'Create study and upload' }));
    expect(screen.getByText('Give the study a title.')).toBeTruthy();
    expect(calls).toHaveLength(0);
    await user.type(screen.getByLabelText('Study title'), 'Trailer, cut 2');
    await user.upload(screen.getByLabelText('Content video'), mp4());
    expect(readDuration).toHaveBeenCalledTimes(1);
    expect((await screen.findByTestId('content-duration')).textContent).toBe('Selected: trailer.mp4, 0:12 (4.9 KB)');
    await user.click(screen.getByRole('button', { name: 'Create study and upload' }));

    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: '/studies',
      body: { title: 'Trailer, cut 2', content: { filename: 'trailer.mp4', content_type: 'video/mp4', size: 5000, duration: 12.48 } },
    });
    expect(sent[0].post).toEqual(POST);
    expect(sent[0].file.size).toBe(5000);
    expect(screen.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('aria-valuetext')).toBe('Uploading… 40%');
    await act(async () => finish());
    expect(await screen.findByText('study page')).toBeTruthy();
    client.clearTokens();
  });

  it('a content that never reaches storage deletes its study again; an unreadable video is refused before anything is sent', async () => {
    const { client, calls } = await fakeApi(studiesApi());
    const uploader: Uploader = async () => {
      throw new ApiError('upload_expired', 'expired', 403);
    };
    const readDuration = vi.fn().mockRejectedValueOnce(new Error('duration_unreadable')).mockResolvedValue(3);
    const user = userEvent.setup({ applyAccept: false });
    renderCreate(client, uploader, readDuration);
    await user.type(screen.getByLabelText('Study title'), 'Trailer');
    await user.upload(screen.getByLabelText('Content video'), mp4());
    expect(await screen.findByText('This video’s length could not be read in the browser. Try an MP4 or WebM file.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Create study and upload' }));
    expect(calls).toHaveLength(0);
    expect(screen.getByText('Choose a video file first.')).toBeTruthy();

    await user.upload(screen.getByLabelText('Content video'), mp4());
    await screen.findByTestId('content-duration');
    await user.click(screen.getByRole('button', { name: 'Create study and upload' }));
    expect(await screen.findByText('The upload link expired. Start the upload again.')).toBeTruthy();
    await waitFor(() => expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /studies', `DELETE /studies/${STUDY_ID}`]));
    client.clearTokens();
  });

  it("reads a file's duration from a <video> element's metadata, also when the container states none at first", async () => {
    URL.createObjectURL = vi.fn(() => 'blob:video');
    URL.revokeObjectURL = vi.fn();
    const real = document.createElement.bind(document);
    let el!: HTMLVideoElement;
    let duration = Infinity;
    vi.spyOn(document, 'createElement').mockImplementation(((tag: string) => {
      const node = real(tag);
      if (tag === 'video') {
        el = node as HTMLVideoElement;
        Object.defineProperty(el, 'duration', { get: () => duration });
      }
      return node;
    }) as typeof document.createElement);
    const reading = readVideoDuration(new Blob([new Uint8Array(10)], { type: 'video/webm' }));
    expect(el.getAttribute('src')).toBe('blob:video');
    el.dispatchEvent(new Event('loadedmetadata')); // a recorder's WebM: Infinity until the end is found
    expect(el.currentTime).toBeGreaterThan(1e6);
    duration = 7.25;
    el.dispatchEvent(new Event('durationchange'));
    expect(await reading).toBe(7.25);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:video');

    duration = NaN; // not a video the browser can read
    const bad = readVideoDuration(new Blob([new Uint8Array(10)]));
    el.dispatchEvent(new Event('error'));
    await expect(bad).rejects.toThrow('duration_unreadable');
  });
});
