import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import { useClient } from '../../auth';
import { errorText, useI18n } from '../../i18n';
import { formatBytes, formatPercent } from '../../lib/format';
import { useConsent } from '../../lib/useConsent';
import type { Uploader } from '../../lib/useUpload';
import { useSend } from '../../lib/useSend';
import { fileProblem, videoContentType } from '../../lib/videoFile';
import { ProgressBar } from '../ProgressBar';
import { ErrorState, Loading } from '../States';

/** A number of seconds as typed (either decimal separator), or null. */
export function parseOffset(raw: string): number | null {
  const s = raw.trim().replace(',', '.');
  if (!/^-?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

/**
 * A viewer recording made elsewhere (a camera, a call recording), added by the creator: the file, where in
 * the content it starts (offset: content time at the recording's first frame), a label, and the viewer's
 * own consent (the viewer statement of GET /consent). The file goes with a progress bar; one that never
 * reaches storage removes its viewer again.
 */
export function AddViewer({ studyId, onAdded, uploader }: { studyId: string; onAdded: () => void; uploader?: Uploader }) {
  const { t, locale } = useI18n();
  const client = useClient();
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const consent = useConsent(client);
  const viewerStatement = consent.statement?.viewer;
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [label, setLabel] = useState('');
  const [offset, setOffset] = useState('0');
  const [consented, setConsented] = useState(false);
  const [done, setDone] = useState(false);
  const { send, cancel, progress, error } = useSend(uploader);
  const maxBytes = client.limits.maxUploadBytes;
  const parsedOffset = parseOffset(offset);

  function choose(f: File | undefined) {
    setDone(false);
    setFileError(null);
    setFile(null);
    if (!f) return;
    const problem = fileProblem(f, maxBytes);
    if (problem === 'notVideo') setFileError(t('upload.notVideo'));
    else if (problem === 'tooLarge' && maxBytes != null) {
      setFileError(t('upload.tooLarge', { size: formatBytes(f.size, locale), limit: formatBytes(maxBytes, locale) }));
    } else setFile(f);
    if (problem && inputRef.current) inputRef.current.value = '';
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (!viewerStatement || !consented || parsedOffset == null) return;
    if (!file) {
      setFileError(t('upload.needFile'));
      inputRef.current?.focus();
      return;
    }
    const created = await send(file, {
      create: () =>
        client.addViewer(studyId, {
          filename: file.name,
          content_type: videoContentType(file) ?? 'video/mp4',
          size: file.size,
          offset: parsedOffset,
          label: label.trim() || undefined,
          consent: { given: true, text_version: viewerStatement.version, language: locale },
        }),
      undo: (c) => client.deleteViewer(studyId, c.viewer.id),
    });
    if (created) {
      setFile(null);
      setLabel('');
      setOffset('0');
      setConsented(false); // every recording needs its own viewer's consent
      if (inputRef.current) inputRef.current.value = '';
      setDone(true);
      onAdded();
    }
  }

  // The viewer statement changed since it was shown: show the new one, to be accepted again.
  const { reload: reloadConsent } = consent;
  useEffect(() => {
    if (consentChanged(error)) {
      setConsented(false);
      reloadConsent();
    }
  }, [error, reloadConsent]);

  return (
    <section className="panel add-viewer" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('addViewer.title')}</h2>
      <p className="muted">{t('addViewer.lead')}</p>
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
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={`${id}-file`}>{t('addViewer.file')}</label>
            <input
              id={`${id}-file`}
              ref={inputRef}
              type="file"
              accept="video/*"
              aria-invalid={fileError ? true : undefined}
              aria-describedby={fileError ? `${id}-file-error` : undefined}
              onChange={(e) => choose(e.target.files?.[0])}
            />
            {fileError && (
              <p id={`${id}-file-error`} className="field-error" role="alert">
                {fileError}
              </p>
            )}
          </div>
          <div className="upload-options">
            <div className="field">
              <label htmlFor={`${id}-label`}>{t('addViewer.label')}</label>
              <input id={`${id}-label`} type="text" maxLength={100} value={label} placeholder={t('addViewer.labelPlaceholder')} onChange={(e) => setLabel(e.target.value)} />
            </div>
            <div className={`field${parsedOffset == null ? ' field-invalid' : ''}`}>
              <label htmlFor={`${id}-offset`}>{t('addViewer.offset')}</label>
              <input
                id={`${id}-offset`}
                type="text"
                inputMode="decimal"
                value={offset}
                aria-invalid={parsedOffset == null ? true : undefined}
                aria-describedby={`${id}-offset-hint`}
                onChange={(e) => setOffset(e.target.value)}
              />
              <p id={`${id}-offset-hint`} className={parsedOffset == null ? 'field-error' : 'field-hint'}>
                {parsedOffset == null ? t('addViewer.offsetInvalid') : t('addViewer.offsetHint')}
              </p>
            </div>
          </div>
          <fieldset className="field consent">
            <legend>{t('addViewer.consentTitle')}</legend>
            {viewerStatement ? (
              <>
                <p className="consent-statement" id={`${id}-consent`}>
                  {viewerStatement.statements[locale] ?? viewerStatement.statements.en}
                </p>
                <label className="checkbox">
                  <input type="checkbox" checked={consented} aria-describedby={`${id}-consent`} onChange={(e) => setConsented(e.target.checked)} />
                  {t('addViewer.consentAgree')}
                </label>
                <p className="muted small">{t('consent.version', { version: viewerStatement.version })}</p>
              </>
            ) : consent.error != null ? (
              <ErrorState error={consent.error} onRetry={consent.reload} />
            ) : consent.statement ? (
              <p className="notice notice-error">{t('addViewer.noStatement')}</p>
            ) : (
              <Loading />
            )}
          </fieldset>
          {error != null && (
            <p className="notice notice-error" role="alert">
              {errorText(error, t)}
            </p>
          )}
          {done && (
            <p className="notice notice-success" role="status">
              {t('addViewer.added')}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={!viewerStatement || !consented || parsedOffset == null}>
            {t('addViewer.submit')}
          </button>
        </form>
      )}
    </section>
  );
}

function consentChanged(e: unknown): boolean {
  return e instanceof ApiError && e.code === 'consent_version_unknown';
}
