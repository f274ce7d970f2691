import { useCallback, useEffect, useId, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, uploadWithProgress } from '../api/client';
import type { Video } from '../api/types';
import { useClient } from '../auth';
import { EmotionChip } from '../components/EmotionChip';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { ProgressBar } from '../components/ProgressBar';
import { AnalysisProgress, canRetry, failureReason } from '../components/VideoProgress';
import { Empty, ErrorState, Loading, PollError } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { errorText, useI18n } from '../i18n';
import { formatBytes, formatDate, formatDuration, formatPercent } from '../lib/format';
import { backoffMs, isFatalPollError, usePollVideo } from '../lib/usePollVideo';
import { useRetryVideo } from '../lib/useRetryVideo';

const VIDEO_EXT: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska',
  avi: 'video/x-msvideo', mpeg: 'video/mpeg', mpg: 'video/mpeg', '3gp': 'video/3gpp', ogv: 'video/ogg',
};

function videoContentType(file: File): string | null {
  if (file.type.startsWith('video/')) return file.type;
  if (file.type) return null;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return VIDEO_EXT[ext] ?? null;
}

/** The upload limit of the API (EMOTIONFY_MAX_UPLOAD_BYTES, 500 MB by default): checked here first. */
const MAX_UPLOAD_BYTES = 500 * 1024 * 1024;

function UploadPanel({ onVideo, onRemoved, onTracking }: {
  onVideo: (v: Video) => void;
  onRemoved: (id: string) => void;
  onTracking: (id: string | null) => void;
}) {
  const { t, locale } = useI18n();
  const client = useClient();
  const fileId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const abortRef = useRef<AbortController | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState('');
  const [backend, setBackend] = useState<'onnx' | 'rekognition'>('onnx');
  const [dragging, setDragging] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [uploading, setUploading] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Video | null>(null);
  const { video, setVideo, error: pollError } = usePollVideo(client, created);
  const { retry, retrying, retryError } = useRetryVideo(client, setCreated);

  useEffect(() => {
    if (video) onVideo(video);
  }, [video, onVideo]);

  useEffect(() => {
    onTracking(video?.id ?? null);
  }, [video?.id, onTracking]);

  // Leaving the page mid-upload would lose it: ask the browser to warn.
  const isUploading = uploading != null;
  useEffect(() => {
    if (!isUploading) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [isUploading]);

  useEffect(() => () => abortRef.current?.abort(), []);

  function clearInput() {
    if (inputRef.current) inputRef.current.value = '';
  }

  function choose(f: File | null | undefined) {
    setError(null);
    if (!f) return;
    if (!videoContentType(f)) {
      setFile(null);
      clearInput();
      setFileError(t('upload.notVideo'));
      return;
    }
    if (f.size > MAX_UPLOAD_BYTES) {
      setFile(null);
      clearInput();
      setFileError(t('upload.tooLarge', { size: formatBytes(f.size, locale), limit: formatBytes(MAX_UPLOAD_BYTES, locale) }));
      return;
    }
    setFileError(null);
    setFile(f);
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    choose(e.dataTransfer.files?.[0]);
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!file) {
      setFileError(t('upload.needFile'));
      inputRef.current?.focus();
      return;
    }
    const contentType = videoContentType(file) ?? 'video/mp4';
    const abort = new AbortController();
    abortRef.current = abort;
    setUploading({ loaded: 0, total: file.size });
    let videoId: string | null = null;
    try {
      const res = await client.createVideo({
        filename: file.name,
        content_type: contentType,
        size: file.size,
        title: title.trim() || undefined,
        backend,
      });
      videoId = res.video.id;
      if (abort.signal.aborted) throw new ApiError('upload_aborted', 'the upload was cancelled');
      onVideo(res.video);
      await uploadWithProgress(res.upload, file, (loaded, total) => setUploading({ loaded, total }), abort.signal);
      videoId = null;
      setUploading(null);
      setCreated({ ...res.video, status: res.video.status === 'pending_upload' ? 'queued' : res.video.status });
    } catch (err) {
      setUploading(null);
      setError(err);
      // The file never reached S3: remove the record so no video stays "waiting for upload".
      if (videoId) {
        const id = videoId;
        client.deleteVideo(id).then(() => onRemoved(id), () => undefined);
      }
    } finally {
      abortRef.current = null;
    }
  }

  function reset() {
    setCreated(null);
    setVideo(null);
    setFile(null);
    setTitle('');
    setError(null);
    clearInput();
  }

  const tracking = video && !uploading;
  return (
    <section className="panel upload" aria-labelledby="upload-title">
      <h2 id="upload-title">{t('upload.title')}</h2>
      {uploading ? (
        <>
          <ProgressBar
            value={uploading.loaded}
            max={uploading.total}
            label={t('upload.progressLabel')}
            text={t('upload.uploading', { percent: formatPercent(uploading.total ? uploading.loaded / uploading.total : 0, locale) })}
            phase="uploading"
          />
          <div className="actions">
            <button type="button" className="btn btn-secondary" onClick={() => abortRef.current?.abort()}>
              {t('upload.cancel')}
            </button>
          </div>
        </>
      ) : tracking ? (
        <div className="tracking">
          <p className="tracking-title">
            <strong>{video.title}</strong> <StatusBadge status={video.status} />
          </p>
          {video.status === 'failed' ? (
            <p className="notice notice-error" role="alert">
              {t('upload.failed', { reason: failureReason(video, t) })}
            </p>
          ) : (
            <AnalysisProgress video={video} />
          )}
          {video.status === 'done' ? (
            <div className="actions">
              <Link className="btn btn-primary" to={`/videos/${video.id}`}>
                {t('upload.open')}
              </Link>
              <button type="button" className="btn btn-secondary" onClick={reset}>
                {t('upload.another')}
              </button>
            </div>
          ) : video.status === 'failed' || video.stalled ? (
            <div className="actions">
              {video.stalled && <p className="notice">{t('upload.stalled')}</p>}
              {canRetry(video) && (
                <button type="button" className="btn btn-primary" onClick={() => retry(video.id)} disabled={retrying}>
                  {t('common.retry')}
                </button>
              )}
              <button type="button" className="btn btn-secondary" onClick={reset}>
                {t('upload.another')}
              </button>
            </div>
          ) : null}
          {pollError != null && <PollError error={pollError} />}
          {(retryError ?? error) != null && <ErrorState error={retryError ?? error} />}
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <div
            className={`dropzone${dragging ? ' dropzone-active' : ''}${fileError ? ' dropzone-invalid' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <svg className="dropzone-icon" viewBox="0 0 24 24" width="36" height="36" aria-hidden="true">
              <path d="M12 16V4m0 0l-4 4m4-4l4 4M4 16v3a1 1 0 001 1h14a1 1 0 001-1v-3" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
            <p className="dropzone-text">{t('upload.drop')}</p>
            <p className="dropzone-or">{t('upload.or')}</p>
            <label htmlFor={fileId} className="file-label">
              {t('upload.file')}
            </label>
            <input
              id={fileId}
              ref={inputRef}
              type="file"
              accept="video/*"
              aria-describedby={fileError ? `${fileId}-error` : `${fileId}-limit`}
              aria-invalid={fileError ? true : undefined}
              onChange={(e) => choose(e.target.files?.[0])}
            />
            <p id={`${fileId}-limit`} className="muted small">
              {t('upload.limit', { limit: formatBytes(MAX_UPLOAD_BYTES, locale) })}
            </p>
            {file && (
              <p className="dropzone-file">{t('upload.chosen', { name: file.name, size: formatBytes(file.size, locale) })}</p>
            )}
            {fileError && (
              <p id={`${fileId}-error`} className="field-error" role="alert">
                {fileError}
              </p>
            )}
          </div>
          <div className="upload-options">
            <div className="field">
              <label htmlFor={`${fileId}-title`}>{t('upload.videoTitle')}</label>
              <input
                id={`${fileId}-title`}
                type="text"
                maxLength={200}
                placeholder={t('upload.videoTitlePlaceholder')}
                value={title}
                onChange={(e) => setTitle(e.target.value)}
              />
            </div>
            <fieldset className="field backend">
              <legend>{t('upload.backend')}</legend>
              {(['onnx', 'rekognition'] as const).map((b) => (
                <label key={b} className="radio">
                  <input type="radio" name="backend" value={b} checked={backend === b} onChange={() => setBackend(b)} />
                  {t(`upload.backend.${b}`)}
                </label>
              ))}
            </fieldset>
          </div>
          {error != null && (
            <p className="notice notice-error" role="alert">
              {errorText(error, t)}
            </p>
          )}
          <button type="submit" className="btn btn-primary">
            {t('upload.submit')}
          </button>
        </form>
      )}
    </section>
  );
}

function History({ items, next, loading, error, pollError, onMore, onRetry }: {
  items: Video[];
  next: string | null;
  loading: boolean;
  error: unknown;
  pollError: unknown;
  onMore: () => void;
  onRetry: () => void;
}) {
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

  // Other videos still being analysed (e.g. after a reload) refresh themselves every 2 s, backing off on errors.
  const pending = items
    .filter((v) => (v.status === 'queued' || v.status === 'processing') && v.id !== trackedId)
    .slice(0, 5)
    .map((v) => v.id)
    .join(',');
  const [pollError, setPollError] = useState<unknown>(null);
  useEffect(() => {
    setPollError(null);
    if (!pending) return;
    let live = true;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const tick = async () => {
      const results = await Promise.allSettled(pending.split(',').map((id) => client.getVideo(id)));
      if (!live) return;
      let error: unknown = null;
      for (const r of results) {
        if (r.status === 'fulfilled') onVideo(r.value);
        else error = r.reason;
      }
      setPollError(error);
      if (error && isFatalPollError(error)) return;
      failures = error ? failures + 1 : 0;
      timer = setTimeout(tick, error ? backoffMs(failures) : 2000);
    };
    timer = setTimeout(tick, 2000);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [client, pending, onVideo]);

  return (
    <div className="stack">
      <PageHeading className="sr-only">{t('nav.home')}</PageHeading>
      <UploadPanel onVideo={onVideo} onRemoved={onRemoved} onTracking={setTrackedId} />
      <History
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
