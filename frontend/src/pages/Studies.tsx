import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { Study } from '../api/types';
import { useClient } from '../auth';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { ProgressBar } from '../components/ProgressBar';
import { Empty, ErrorState, Loading } from '../components/States';
import { errorText, useI18n } from '../i18n';
import { formatBytes, formatDate, formatDuration, formatPercent } from '../lib/format';
import type { Uploader } from '../lib/useUpload';
import { useSend } from '../lib/useSend';
import { readVideoDuration } from '../lib/videoDuration';
import { fileProblem, videoContentType } from '../lib/videoFile';

/** Reads a file's duration; injectable so component tests need no media decoding. */
export type DurationReader = (file: Blob) => Promise<number>;

/**
 * A new study: a title and the content video. The content's duration is read in the browser (POST /studies
 * needs it to lay the audience grid), then the content goes to storage with a progress bar. A content that
 * never reaches storage deletes the study again, so no study is left without its video.
 */
export function CreateStudy({ uploader, readDuration = readVideoDuration }: { uploader?: Uploader; readDuration?: DurationReader }) {
  const { t, locale } = useI18n();
  const client = useClient();
  const navigate = useNavigate();
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [title, setTitle] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [duration, setDuration] = useState<number | null>(null);
  const [reading, setReading] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const { send, cancel, progress, error } = useSend(uploader);
  const maxBytes = client.limits.maxUploadBytes;

  async function choose(f: File | undefined) {
    setFile(null);
    setDuration(null);
    setFileError(null);
    if (!f) return;
    const problem = fileProblem(f, maxBytes);
    if (problem === 'notVideo') return setFileError(t('upload.notVideo'));
    if (problem === 'tooLarge' && maxBytes != null) {
      return setFileError(t('upload.tooLarge', { size: formatBytes(f.size, locale), limit: formatBytes(maxBytes, locale) }));
    }
    setReading(true);
    try {
      const d = await readDuration(f);
      setFile(f);
      setDuration(d);
    } catch {
      setFileError(t('studies.durationUnreadable'));
      if (inputRef.current) inputRef.current.value = '';
    } finally {
      setReading(false);
    }
  }

  const titleError = submitted && !title.trim() ? t('studies.titleRequired') : null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (!title.trim()) return;
    if (!file || duration == null) {
      setFileError(t('upload.needFile'));
      inputRef.current?.focus();
      return;
    }
    const created = await send(file, {
      create: () =>
        client.createStudy({
          title: title.trim(),
          content: { filename: file.name, content_type: videoContentType(file) ?? 'video/mp4', size: file.size, duration },
        }),
      undo: (c) => client.deleteStudy(c.study.id),
    });
    if (created) navigate(`/studies/${created.study.id}`);
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('studies.create')}</h2>
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
            <button type="button" className="btn btn-secondary" onClick={cancel}>
              {t('upload.cancel')}
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={submit} noValidate className="study-form">
          <div className={`field${titleError ? ' field-invalid' : ''}`}>
            <label htmlFor={`${id}-name`}>{t('studies.studyTitle')}</label>
            <input
              id={`${id}-name`}
              type="text"
              maxLength={200}
              value={title}
              placeholder={t('studies.titlePlaceholder')}
              aria-invalid={titleError ? true : undefined}
              aria-describedby={titleError ? `${id}-name-error` : undefined}
              onChange={(e) => setTitle(e.target.value)}
            />
            {titleError && (
              <p id={`${id}-name-error`} className="field-error">
                {titleError}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-file`}>{t('studies.contentFile')}</label>
            <input
              id={`${id}-file`}
              ref={inputRef}
              type="file"
              accept="video/*"
              aria-invalid={fileError ? true : undefined}
              aria-describedby={`${id}-file-hint${fileError ? ` ${id}-file-error` : ''}`}
              onChange={(e) => choose(e.target.files?.[0])}
            />
            <p id={`${id}-file-hint`} className="field-hint">
              {t('studies.contentHint')}
            </p>
            {reading && <Loading label={t('studies.readingDuration')} />}
            {file && duration != null && (
              <p className="dropzone-file" data-testid="content-duration">
                {t('studies.contentChosen', { name: file.name, duration: formatDuration(duration), size: formatBytes(file.size, locale) })}
              </p>
            )}
            {fileError && (
              <p id={`${id}-file-error`} className="field-error" role="alert">
                {fileError}
              </p>
            )}
          </div>
          {error != null && (
            <p className="notice notice-error" role="alert">
              {errorText(error, t)}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={reading}>
            {t('studies.createSubmit')}
          </button>
        </form>
      )}
    </section>
  );
}

/** One study in the list: its content's length and how many viewers are analysed. */
function StudyItem({ study }: { study: Study }) {
  const { t, locale } = useI18n();
  return (
    <li>
      <Link to={`/studies/${study.id}`} className="history-item">
        <span className="history-main">
          <span className="history-title">{study.title}</span>
          {!study.content.uploaded && <span className="badge badge-pending_upload">{t('studies.contentMissing')}</span>}
        </span>
        <span className="history-meta">
          <span>
            <span className="meta-label">{t('studies.contentDuration')}</span> {formatDuration(study.content.duration)}
          </span>
          <span data-testid="study-viewers">
            <span className="meta-label">{t('studies.viewers')}</span>{' '}
            {t('studies.viewersDone', { done: study.viewers.done, total: study.viewers.total })}
          </span>
          <span>
            <span className="meta-label">{t('history.date')}</span> {formatDate(study.created_at, locale)}
          </span>
        </span>
      </Link>
    </li>
  );
}

/** The Studies area: the creator's studies, newest first, and a form to start a new one. */
export function StudiesPage() {
  const client = useClient();
  const { t } = useI18n();
  usePageTitle(t('studies.title'));
  const [items, setItems] = useState<Study[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    setError(null);
    client.listStudies().then((p) => setItems(p.items), setError);
  }, [client]);
  useEffect(load, [load]);

  return (
    <div className="stack">
      <div className="page-head">
        <PageHeading>{t('studies.title')}</PageHeading>
        <p className="muted">{t('studies.lead')}</p>
      </div>
      <CreateStudy />
      <section className="panel" aria-labelledby="studies-list-title">
        <div className="panel-head">
          <h2 id="studies-list-title">{t('studies.list')}</h2>
          {items && items.length >= 2 && (
            <Link className="btn btn-secondary btn-small" to="/studies/compare">
              {t('compare.open')}
            </Link>
          )}
        </div>
        {error != null ? (
          <ErrorState error={error} onRetry={load} />
        ) : !items ? (
          <Loading />
        ) : items.length === 0 ? (
          <Empty>{t('studies.empty')}</Empty>
        ) : (
          <ul className="history">
            {items.map((s) => (
              <StudyItem key={s.id} study={s} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
