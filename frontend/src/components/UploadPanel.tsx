import { useEffect, useId, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import type { Video } from '../api/types';
import { useClient } from '../auth';
import { useI18n } from '../i18n';
import { useConsent, useConsentBox } from '../lib/useConsent';
import { formatBytes } from '../lib/format';
import { usePollVideo } from '../lib/usePollVideo';
import { useRetryVideo } from '../lib/useRetryVideo';
import { useUpload, type Backend, type Uploader } from '../lib/useUpload';
import { useFileProblemText } from '../lib/useVideoFileChoice';
import { ConsentFieldset } from './ConsentFieldset';
import { ErrorNotice, ErrorState, PollError } from './States';
import { StatusBadge } from './StatusBadge';
import { UploadProgress } from './UploadProgress';
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
  const consent = useConsent(client);
  // The API's upload limit as /config.json states it: checked here first (none stated: the API checks).
  const maxBytes = client.limits.maxUploadBytes;
  const upload = useUpload(client, maxBytes, { onCreated: onVideo, onRemoved, uploader });
  const { video, setVideo, error: pollError } = usePollVideo(client, upload.created);
  const { retry, retrying, retryError } = useRetryVideo(client, upload.setCreated);
  // The statement changed since it was shown: the new one is shown, to be accepted again.
  const [consented, setConsented] = useConsentBox(consent.reload, upload.error);
  const problemText = useFileProblemText();

  useEffect(() => {
    if (video) onVideo(video);
  }, [video, onVideo]);

  useEffect(() => {
    onTracking(video?.id ?? null);
  }, [video?.id, onTracking]);

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

  const fileError = upload.problem ? problemText(upload.problem.kind, upload.problem.size) : null;
  const { progress, error } = upload;
  const tracking = video && !progress;
  return (
    <section className="panel upload" aria-labelledby="upload-title">
      <h2 id="upload-title">{t('upload.title')}</h2>
      {progress ? (
        <UploadProgress progress={progress} onCancel={upload.cancel} />
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
          <ConsentFieldset
            id={fileId}
            legend={t('consent.title')}
            agree={t('consent.agree')}
            statement={consent.statement}
            checked={consented}
            onCheck={setConsented}
            error={consent.error}
            onRetry={consent.reload}
          />
          {error != null && <ErrorNotice error={error} />}
          <button type="submit" className="btn btn-primary" disabled={!consent.statement || !consented}>
            {t('upload.submit')}
          </button>
          {!consented && consent.statement && <p className="muted small">{t('consent.needed')}</p>}
        </form>
      )}
    </section>
  );
}
