import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import type { Video } from '../api/types';

export const TERMINAL = new Set(['done', 'failed']);

/** Polls GET /videos/{id} every `intervalMs` while the video is not done or failed. */
export function usePollVideo(client: ApiClient, initial: Video | null, intervalMs = 1000) {
  const [video, setVideo] = useState<Video | null>(initial);
  const [error, setError] = useState<unknown>(null);
  const id = video?.id;
  const terminal = video ? TERMINAL.has(video.status) : true;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    setVideo(initial);
  }, [initial]);

  useEffect(() => {
    if (!id || terminal) return;
    let live = true;
    const tick = async () => {
      try {
        const v = await client.getVideo(id);
        if (!live) return;
        setError(null);
        setVideo(v);
        if (!TERMINAL.has(v.status)) timer.current = setTimeout(tick, intervalMs);
      } catch (e) {
        if (!live) return;
        setError(e);
        timer.current = setTimeout(tick, intervalMs * 3);
      }
    };
    timer.current = setTimeout(tick, intervalMs);
    return () => {
      live = false;
      if (timer.current) clearTimeout(timer.current);
    };
  }, [client, id, terminal, intervalMs]);

  return { video, setVideo, error };
}
