import { useEffect, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../api/client';
import type { Video } from '../api/types';

const TERMINAL = new Set(['done', 'failed']);

/** Whether the analysis of this video has ended (nothing more to poll for). */
export function isTerminal(video: Video): boolean {
  return TERMINAL.has(video.status);
}

/** Whether polling should give up on this error: signed out (401) or the video is gone (404). */
export function isFatalPollError(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 401 || e.status === 404);
}

/** The wait before the next poll after `failures` consecutive errors: 1 s, 2 s, 4 s, 8 s, then 10 s. */
export function backoffMs(failures: number, baseMs = 1000, maxMs = 10_000): number {
  if (failures <= 0) return baseMs;
  return Math.min(maxMs, baseMs * 2 ** (failures - 1));
}

/**
 * Polls GET /videos/{id} for every id in `ids`, every `intervalMs`, handing each fresh video to `onVideo`.
 * The caller decides what to poll (and stops polling a video by leaving it out of `ids`); the polling
 * restarts only when the set of ids changes, not when `onVideo` does. Errors are reported and retried with
 * exponential backoff (up to 10 s); a 401 or 404 stops the polling until `ids` changes.
 */
export function usePollVideos(client: ApiClient, ids: readonly string[], onVideo: (v: Video) => void, intervalMs = 1000) {
  const [error, setError] = useState<unknown>(null);
  const onVideoRef = useRef(onVideo);
  onVideoRef.current = onVideo;
  const key = ids.join(',');

  useEffect(() => {
    setError(null);
    if (!key) return;
    const list = key.split(',');
    let live = true;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const tick = async () => {
      const results = await Promise.allSettled(list.map((id) => client.getVideo(id)));
      if (!live) return;
      let failure: unknown = null;
      for (const r of results) {
        if (r.status === 'fulfilled') onVideoRef.current(r.value);
        else failure = r.reason;
      }
      setError(failure);
      if (failure != null && isFatalPollError(failure)) return;
      failures = failure != null ? failures + 1 : 0;
      timer = setTimeout(tick, failure != null ? backoffMs(failures, intervalMs) : intervalMs);
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [client, key, intervalMs]);

  return { error };
}

/** One video kept current until it is done or failed (the upload panel and the results page). */
export function usePollVideo(client: ApiClient, initial: Video | null, intervalMs = 1000) {
  const [video, setVideo] = useState<Video | null>(initial);
  useEffect(() => {
    setVideo(initial);
  }, [initial]);
  const ids = video && !isTerminal(video) ? [video.id] : [];
  const { error } = usePollVideos(client, ids, setVideo, intervalMs);
  return { video, setVideo, error };
}
