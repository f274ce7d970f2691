// @vitest-environment happy-dom
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type ApiClient } from '../src/api/client';
import type { Video } from '../src/api/types';
import { usePollVideo, usePollVideos } from '../src/lib/usePollVideo';
import { video } from './support/app';

/** A client whose GET /videos/{id} answers from `answer` (a video, or an error to throw). */
function fakeClient(answer: (id: string, n: number) => Video | Error) {
  const seen: string[] = [];
  const getVideo = vi.fn(async (id: string) => {
    seen.push(id);
    const a = answer(id, seen.filter((s) => s === id).length);
    if (a instanceof Error) throw a;
    return a;
  });
  return { client: { getVideo } as unknown as ApiClient, seen };
}

const tick = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('usePollVideo (one video)', () => {
  it('polls every interval while queued or processing and stops once done', async () => {
    const id = 'b'.repeat(32);
    const { client, seen } = fakeClient((_, n) =>
      n < 3 ? video({ id, status: 'processing', progress: { done: n, total: 3 } }) : video({ id, status: 'done' }),
    );
    const initial = video({ id });
    const { result } = renderHook(() => usePollVideo(client, initial, 1000));
    expect(seen).toHaveLength(0);
    await tick(1000);
    expect(result.current.video?.progress).toEqual({ done: 1, total: 3 });
    await tick(2000);
    expect(result.current.video?.status).toBe('done');
    expect(seen).toHaveLength(3);
    await tick(10_000);
    expect(seen).toHaveLength(3);
  });

  it('does not poll a video that is already done or failed', async () => {
    const { client, seen } = fakeClient(() => video());
    const initial = video({ status: 'failed' });
    renderHook(() => usePollVideo(client, initial));
    await tick(5000);
    expect(seen).toHaveLength(0);
  });

  it('reports an error, backs off (1 s, 2 s, 4 s) and clears the error when the API answers again', async () => {
    const { client, seen } = fakeClient((_, n) => (n <= 3 ? new ApiError('unavailable', 'down', 503) : video({ status: 'processing' })));
    const initial = video();
    const { result } = renderHook(() => usePollVideo(client, initial, 1000));
    await tick(1000);
    expect(result.current.error).toMatchObject({ code: 'unavailable' });
    await tick(999);
    expect(seen).toHaveLength(1);
    await tick(1);
    expect(seen).toHaveLength(2);
    await tick(2000);
    expect(seen).toHaveLength(3);
    await tick(3999);
    expect(seen).toHaveLength(3);
    await tick(1);
    expect(seen).toHaveLength(4);
    expect(result.current.error).toBeNull();
    expect(result.current.video?.status).toBe('processing');
  });

  it('gives up on a 404 (the video is gone) and a 401 (signed out)', async () => {
    for (const err of [new ApiError('not_found', 'x', 404), new ApiError('unauthorized', 'x', 401)]) {
      const { client, seen } = fakeClient(() => err);
      const initial = video();
      const { result, unmount } = renderHook(() => usePollVideo(client, initial, 1000));
      await tick(30_000);
      expect(seen).toHaveLength(1);
      expect(result.current.error).toBe(err);
      unmount();
    }
  });

  it('follows a new initial video (a retry) after the old one ended', async () => {
    const { client, seen } = fakeClient((id) => video({ id, status: 'done' }));
    const { result, rerender } = renderHook(({ v }) => usePollVideo(client, v, 1000), {
      initialProps: { v: video({ status: 'failed' }) as Video | null },
    });
    await tick(3000);
    expect(seen).toHaveLength(0);
    rerender({ v: video({ status: 'queued' }) });
    expect(result.current.video?.status).toBe('queued');
    await tick(1000);
    expect(seen).toHaveLength(1);
    expect(result.current.video?.status).toBe('done');
  });
});

describe('usePollVideos (many videos)', () => {
  it('refreshes every listed video each interval and stops polling one when the caller drops it', async () => {
    const ids = ['1'.repeat(32), '2'.repeat(32), '3'.repeat(32)];
    const { client, seen } = fakeClient((id) => video({ id, status: 'processing' }));
    const got: string[] = [];
    const { rerender } = renderHook(({ list }) => usePollVideos(client, list, (v) => got.push(v.id), 2000), {
      initialProps: { list: ids },
    });
    await tick(2000);
    expect(seen.sort()).toEqual([...ids].sort());
    expect(got.sort()).toEqual([...ids].sort());
    // a new array with the same ids (every render of the caller) does not restart the timer
    await tick(1000);
    rerender({ list: [...ids] });
    await tick(1000);
    expect(seen).toHaveLength(6);
    rerender({ list: [ids[0]] });
    seen.length = 0;
    await tick(4000);
    expect(seen).toEqual([ids[0], ids[0]]);
    rerender({ list: [] });
    seen.length = 0;
    await tick(10_000);
    expect(seen).toHaveLength(0);
  });

  it('keeps the other videos coming when one request fails, and reports the failure', async () => {
    const ok = '1'.repeat(32);
    const bad = '2'.repeat(32);
    const { client } = fakeClient((id) => (id === bad ? new ApiError('network', 'offline', 0) : video({ id, status: 'processing' })));
    const got: string[] = [];
    const { result } = renderHook(() => usePollVideos(client, [ok, bad], (v) => got.push(v.id), 1000));
    await tick(1000);
    expect(got).toEqual([ok]);
    expect(result.current.error).toMatchObject({ code: 'network' });
  });
});
