import { useEffect, useState } from 'react';
import { ApiError, type ApiClient } from '../api/client';
import type { Video } from '../api/types';

const TERMINAL = new Set(['done', 'failed']);

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
 * Polls GET /videos/{id} every `intervalMs` while the video is not done or failed. Errors are reported and
 * retried with exponential backoff (1 s → 10 s); a 401 or 404 stops the polling.
 */
export function usePollVideo(client: ApiClient, initial: Video | null, intervalMs = 1000) {
  const [video, setVideo] = useState<Video | null>(initial);
  const [error, setError] = useState<unknown>(null);
  const id = video?.id;
  const terminal = video ? TERMINAL.has(video.status) : true;

  useEffect(() => {
    setVideo(initial);
    setError(null);
  }, [initial]);

  useEffect(() => {
    if (!id || terminal) return;
    let live = true;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const tick = async () => {
      try {
        const v = await client.getVideo(id);
        if (!live) return;
        failures = 0;
        setError(null);
        setVideo(v);
        if (!TERMINAL.has(v.status)) timer = setTimeout(tick, intervalMs);
      } catch (e) {
        if (!live) return;
        setError(e);
        if (isFatalPollError(e)) return;
        failures++;
        timer = setTimeout(tick, backoffMs(failures, intervalMs));
      }
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [client, id, terminal, intervalMs]);

  return { video, setVideo, error };
}
