import { Link } from 'react-router-dom';
import type { Video } from '../api/types';
import { useI18n } from '../i18n';
import { formatDate, formatDuration } from '../lib/format';
import { EmotionChip } from './EmotionChip';
import { Empty, ErrorState, Loading, PollError } from './States';
import { StatusBadge } from './StatusBadge';

interface Props {
  items: Video[];
  next: string | null;
  loading: boolean;
  error: unknown;
  pollError: unknown;
  onMore: () => void;
  onRetry: () => void;
}

/** The user's videos, newest first, each a link to its results; "load more" pages through the rest. */
export function VideoHistory({ items, next, loading, error, pollError, onMore, onRetry }: Props) {
  const { t, locale } = useI18n();
  return (
    <section className="panel" aria-labelledby="history-title">
      <h2 id="history-title">{t('history.title')}</h2>
      {items.length === 0 && loading ? (
        <Loading />
      ) : items.length === 0 && error ? (
        <ErrorState error={error} onRetry={onRetry} />
      ) : items.length === 0 ? (
        <Empty>{t('history.empty')}</Empty>
      ) : (
        <>
          <ul className="history">
            {items.map((v) => (
              <li key={v.id}>
                <Link to={`/videos/${v.id}`} className="history-item">
                  <span className="history-main">
                    <span className="history-title">{v.title}</span>
                    <StatusBadge status={v.status} />
                  </span>
                  <span className="history-meta">
                    <span>
                      <span className="meta-label">{t('history.duration')}</span> {formatDuration(v.duration)}
                    </span>
                    <span>
                      <span className="meta-label">{t('history.date')}</span> {formatDate(v.created_at, locale)}
                    </span>
                    <span>
                      <span className="meta-label">{t('history.dominant')}</span>{' '}
                      {v.status === 'done' ? <EmotionChip label={v.summary?.dominant} /> : t('common.none')}
                    </span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
          {pollError != null && <PollError error={pollError} />}
          {error != null && <ErrorState error={error} onRetry={onMore} />}
          {next && (
            <button type="button" className="btn btn-secondary load-more" onClick={onMore} disabled={loading}>
              {loading ? t('history.loadingMore') : t('history.loadMore')}
            </button>
          )}
        </>
      )}
    </section>
  );
}
