import { useCallback, useRef, useState } from 'react';
import { useI18n } from '../i18n';
import { useLoad } from '../lib/useLoad';
import { ErrorState, Loading } from './States';

/**
 * A video the page follows and steers: `currentTime` tracks its playback (a chart's cursor reads it) and
 * `seek` moves both (a chart click, a moment). The results page and the study page each have one.
 */
export function useVideoClock() {
  const ref = useRef<HTMLVideoElement>(null);
  const [currentTime, setCurrentTime] = useState(0);
  const seek = useCallback((time: number) => {
    setCurrentTime(time);
    const el = ref.current;
    if (el) el.currentTime = time;
  }, []);
  return { ref, currentTime, setCurrentTime, seek };
}

export type VideoClock = ReturnType<typeof useVideoClock>;

/**
 * The stored video behind a presigned URL (`load`, memoised by the caller): loading, then the player tied to
 * `clock`; an error (the URL, or a file the browser cannot play, named `name`) offers to try again.
 */
export function MediaPlayer({ load, name, clock, testId }: {
  load: () => Promise<{ url: string }>;
  name: string;
  clock: VideoClock;
  testId?: string;
}) {
  const { t } = useI18n();
  const media = useLoad(load);
  const [playError, setPlayError] = useState<unknown>(null);
  const error = playError ?? media.error;
  const retry = () => {
    setPlayError(null);
    media.reload();
  };

  if (error != null) return <ErrorState error={error} onRetry={retry} />;
  if (!media.value) return <Loading />;
  const { ref, setCurrentTime } = clock;
  return (
    <video
      ref={ref}
      src={media.value.url}
      controls
      playsInline
      preload="metadata"
      data-testid={testId}
      onTimeUpdate={(e) => setCurrentTime(e.currentTarget.currentTime)}
      onSeeked={(e) => setCurrentTime(e.currentTarget.currentTime)}
      onError={() => setPlayError(new Error(t('results.mediaError', { reason: name })))}
    />
  );
}
