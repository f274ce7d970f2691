import { useCallback, useId, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { Study } from '../api/types';
import { useClient } from '../auth';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { ErrorNotice, ListState, Loading } from '../components/States';
import { UploadProgress } from '../components/UploadProgress';
import { VideoFileField } from '../components/VideoFileField';
import { useI18n } from '../i18n';
import { formatBytes, formatDate, formatDuration } from '../lib/format';
import { useLoad } from '../lib/useLoad';
import type { Uploader } from '../lib/useUpload';
import { useSend } from '../lib/useSend';
import { useVideoFileChoice } from '../lib/useVideoFileChoice';
import { readVideoDuration } from '../lib/videoDuration';
import { videoContentType } from '../lib/videoFile';

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
  const picked = useVideoFileChoice();
  const [title, setTitle] = useState('');
  const [duration, setDuration] = useState<number | null>(null);
  const [reading, setReading] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const { send, cancel, progress, error } = useSend(uploader);

  async function choose(f: File | undefined) {
    setDuration(null);
    const chosen = picked.choose(f);
    if (!chosen) return;
    setReading(true);
    try {
      setDuration(await readDuration(chosen));
    } catch {
      picked.clear(t('studies.durationUnreadable'));
    } finally {
      setReading(false);
    }
  }

  const titleError = submitted && !title.trim() ? t('studies.titleRequired') : null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (!title.trim()) return;
    const file = picked.file;
    if (!file || duration == null) return picked.askForFile();
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
        <UploadProgress progress={progress} onCancel={cancel} />
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
          <VideoFileField id={`${id}-file`} label={t('studies.contentFile')} hint={t('studies.contentHint')} choice={picked} onFile={choose}>
            {reading && <Loading label={t('studies.readingDuration')} />}
            {picked.file && duration != null && (
              <p className="dropzone-file" data-testid="content-duration">
                {t('studies.contentChosen', { name: picked.file.name, duration: formatDuration(duration), size: formatBytes(picked.file.size, locale) })}
              </p>
            )}
          </VideoFileField>
          {error != null && <ErrorNotice error={error} />}
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
  const studies = useLoad(useCallback(() => client.listStudies().then((p) => p.items), [client]));
  const items = studies.value;

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
        <ListState items={items} error={studies.error} onRetry={studies.reload} empty={t('studies.empty')}>
          {(list) => (
            <ul className="history">
              {list.map((s) => (
                <StudyItem key={s.id} study={s} />
              ))}
            </ul>
          )}
        </ListState>
      </section>
    </div>
  );
}
