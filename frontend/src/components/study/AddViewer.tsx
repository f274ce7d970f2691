import { useId, useState, type FormEvent } from 'react';
import { useClient } from '../../auth';
import { useI18n } from '../../i18n';
import { useConsent, useConsentBox } from '../../lib/useConsent';
import type { Uploader } from '../../lib/useUpload';
import { useSend } from '../../lib/useSend';
import { useVideoFileChoice } from '../../lib/useVideoFileChoice';
import { videoContentType } from '../../lib/videoFile';
import { ConsentFieldset } from '../ConsentFieldset';
import { ErrorNotice } from '../States';
import { UploadProgress } from '../UploadProgress';
import { VideoFileField } from '../VideoFileField';

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
  const consent = useConsent(client);
  const viewerStatement = consent.statement?.viewer;
  const picked = useVideoFileChoice();
  const [label, setLabel] = useState('');
  const [offset, setOffset] = useState('0');
  const [done, setDone] = useState(false);
  const { send, cancel, progress, error } = useSend(uploader);
  // The viewer statement changed since it was shown: the new one is shown, to be accepted again.
  const [consented, setConsented] = useConsentBox(consent.reload, error);
  const parsedOffset = parseOffset(offset);

  function choose(f: File | undefined) {
    setDone(false);
    picked.choose(f);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (!viewerStatement || !consented || parsedOffset == null) return;
    const file = picked.file;
    if (!file) return picked.askForFile();
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
      picked.clear();
      setLabel('');
      setOffset('0');
      setConsented(false); // every recording needs its own viewer's consent
      setDone(true);
      onAdded();
    }
  }

  return (
    <section className="panel add-viewer" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('addViewer.title')}</h2>
      <p className="muted">{t('addViewer.lead')}</p>
      {progress ? (
        <UploadProgress progress={progress} onCancel={cancel} />
      ) : (
        <form onSubmit={submit} noValidate>
          <VideoFileField id={`${id}-file`} label={t('addViewer.file')} choice={picked} onFile={choose} />
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
          <ConsentFieldset
            id={id}
            legend={t('addViewer.consentTitle')}
            agree={t('addViewer.consentAgree')}
            statement={viewerStatement}
            checked={consented}
            onCheck={setConsented}
            error={consent.error}
            onRetry={consent.reload}
            fallback={consent.statement ? <p className="notice notice-error">{t('addViewer.noStatement')}</p> : undefined}
          />
          {error != null && <ErrorNotice error={error} />}
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
