import { useCallback, useEffect, useState } from 'react';
import type { Video } from '../api/types';
import { useClient } from '../auth';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { UploadPanel } from '../components/UploadPanel';
import { VideoHistory } from '../components/VideoHistory';
import { useI18n } from '../i18n';
import { usePollVideos } from '../lib/usePollVideo';

/** How many of the listed videos still being analysed are refreshed, and how often. */
const POLL_AT_MOST = 5;
const POLL_EVERY_MS = 2000;

/** The home page: the upload panel above the history of the user's videos. */
export function Home() {
  const client = useClient();
  const { t } = useI18n();
  usePageTitle(t('nav.home'));
  const [items, setItems] = useState<Video[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (cursor: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const page = await client.listVideos(cursor);
        setItems((prev) => {
          const base = cursor ? prev : [];
          const seen = new Set(base.map((v) => v.id));
          return [...base, ...page.items.filter((v) => !seen.has(v.id))];
        });
        setNext(page.next);
      } catch (e) {
        setError(e);
      } finally {
        setLoading(false);
      }
    },
    [client],
  );

  useEffect(() => {
    load(null);
  }, [load]);

  // The upload panel reports its video: show it at the top of the history and keep it current.
  const onVideo = useCallback((v: Video) => {
    setItems((prev) => (prev.some((p) => p.id === v.id) ? prev.map((p) => (p.id === v.id ? v : p)) : [v, ...prev]));
  }, []);

  const onRemoved = useCallback((id: string) => setItems((prev) => prev.filter((p) => p.id !== id)), []);

  // The upload panel polls its own video: the history poller leaves that one out.
  const [trackedId, setTrackedId] = useState<string | null>(null);

  // Other videos still being analysed (e.g. after a reload) refresh themselves, backing off on errors.
  const pending = items
    .filter((v) => (v.status === 'queued' || v.status === 'processing') && v.id !== trackedId)
    .slice(0, POLL_AT_MOST)
    .map((v) => v.id);
  const { error: pollError } = usePollVideos(client, pending, onVideo, POLL_EVERY_MS);

  return (
    <div className="stack">
      <PageHeading className="sr-only">{t('nav.home')}</PageHeading>
      <UploadPanel onVideo={onVideo} onRemoved={onRemoved} onTracking={setTrackedId} />
      <VideoHistory
        items={items}
        next={next}
        loading={loading}
        error={error}
        pollError={pollError}
        onMore={() => load(next)}
        onRetry={() => load(null)}
      />
    </div>
  );
}
