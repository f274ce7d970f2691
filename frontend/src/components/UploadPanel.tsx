import { useEffect, useId, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { ApiError } from '../api/client';
import type { Video } from '../api/types';
import { useClient } from '../auth';
import { errorText, useI18n } from '../i18n';
import { useConsent } from '../lib/useConsent';
import { formatBytes, formatPercent } from '../lib/format';
import { usePollVideo } from '../lib/usePollVideo';
import { useRetryVideo } from '../lib/useRetryVideo';
import { useUpload, type Backend, type Uploader } from '../lib/useUpload';
import { ProgressBar } from './ProgressBar';
import { ErrorState, Loading, PollError } from './States';
import { StatusBadge } from './StatusBadge';
import { AnalysisProgress, canRetry, failureReason } from './VideoProgress';

interface Props {
  /** The uploaded video, whenever it changes (created, then every poll). */
  onVideo: (v: Video) => void;
  /** A record whose file never reached storage was deleted again. */
  onRemoved: (id: string) => void;
  /** The id of the video this panel polls itself (null when none), so others can leave it out. */
  onTracking: (id: string | null) => void;
  uploader?: Uploader;
}

/** Choose a video, upload it with a progress bar, then follow its analysis until done or failed. */
export function UploadPanel({ onVideo, onRemoved, onTracking, uploader }: Props) {
  const { t, locale } = useI18n();
  const client = useClient();
  const fileId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [title, setTitle] = useState('');
  const [backend, setBackend] = useState<Backend>('onnx');
  const [dragging, setDragging] = useState(false);
  const [consented, setConsented] = useState(false);
  const consent = useConsent(client);
  // The API's upload limit as /config.json states it: checked here first (none stated: the API checks).
  const maxBytes = client.limits.maxUploadBytes;
  const upload = useUpload(client, maxBytes, { onCreated: onVideo, onRemoved, uploader });
  const { video, setVideo, error: pollError } = usePollVideo(client, upload.created);
  const { retry, retrying, retryError } = useRetryVideo(client, upload.setCreated);

  useEffect(() => {
    if (video) onVideo(video);
  }, [video, onVideo]);

  useEffect(() => {
    onTracking(video?.id ?? null);
  }, [video?.id, onTracking]);

  // The statement changed since it was shown: show the new one, to be accepted again.
  const { reload: reloadConsent } = consent;
  useEffect(() => {
    if (upload.error instanceof ApiError && upload.error.code === 'consent_version_unknown') {
      setConsented(false);
      reloadConsent();
    }
  }, [upload.error, reloadConsent]);

  function clearInput() {
    if (inputRef.current) inputRef.current.value = '';
  }

  function choose(f: File | null | undefined) {
    if (f && !upload.choose(f)) clearInput();
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    choose(e.dataTransfer.files?.[0]);
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const statement = consent.statement;
    if (!statement || !consented) return;
    if (!upload.file) inputRef.current?.focus();
    await upload.start({ title, backend, consent: { given: true, text_version: statement.version, language: locale } });
  }

  function reset() {
    upload.reset();
    setVideo(null);
    setTitle('');
    setConsented(false); // every video needs its own consent
    clearInput();
  }

  const problem = upload.problem;
  const fileError =
    problem?.kind === 'notVideo'
      ? t('upload.notVideo')
      : problem?.kind === 'tooLarge' && maxBytes != null
        ? t('upload.tooLarge', { size: formatBytes(problem.size ?? 0, locale), limit: formatBytes(maxBytes, locale) })
        : problem?.kind === 'needFile'
          ? t('upload.needFile')
          : null;
  const { progress, error } = upload;
  const tracking = video && !progress;
  return (
    <section className="panel upload" aria-labelledby="upload-title">
      <h2 id="upload-title">{t('upload.title')}</h2>
      {progress ? (
        <>
          <ProgressBar
            value={progress.loaded}
            max={progress.total}
            label={t('upload.progressLabel')}
            text={t('upload.uploading', { percent: formatPercent(progress.total ? progress.loaded / progress.total : 0, locale) })}
            phase="uploading"
          />
          <div className="actions">
            <button type="button" className="btn btn-secondary" onClick={upload.cancel}>
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
              aria-describedby={fileError ? `${fileId}-error` : maxBytes != null ? `${fileId}-limit` : undefined}
              aria-invalid={fileError ? true : undefined}
              onChange={(e) => choose(e.target.files?.[0])}
            />
            {maxBytes != null && (
              <p id={`${fileId}-limit`} className="muted small">
                {t('upload.limit', { limit: formatBytes(maxBytes, locale) })}
              </p>
            )}
            {upload.file && (
              <p className="dropzone-file">{t('upload.chosen', { name: upload.file.name, size: formatBytes(upload.file.size, locale) })}</p>
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
          <fieldset className="field consent">
            <legend>{t('consent.title')}</legend>
            {consent.statement ? (
              <>
                <p className="consent-statement" id={`${fileId}-consent`}>
                  {consent.statement.statements[locale] ?? consent.statement.statements.en}
                </p>
                <label className="checkbox">
                  <input
                    type="checkbox"
                    checked={consented}
                    aria-describedby={`${fileId}-consent`}
                    onChange={(e) => setConsented(e.target.checked)}
                  />
                  {t('consent.agree')}
                </label>
                <p className="muted small">{t('consent.version', { version: consent.statement.version })}</p>
              </>
            ) : consent.error != null ? (
              <ErrorState error={consent.error} onRetry={consent.reload} />
            ) : (
              <Loading />
            )}
          </fieldset>
          {error != null && (
            <p className="notice notice-error" role="alert">
              {errorText(error, t)}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={!consent.statement || !consented}>
            {t('upload.submit')}
          </button>
          {!consented && consent.statement && <p className="muted small">{t('consent.needed')}</p>}
        </form>
      )}
    </section>
  );
}
