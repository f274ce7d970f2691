import { useI18n } from '../i18n';
import { formatPercent } from '../lib/format';
import { ProgressBar } from './ProgressBar';

export interface Progress {
  loaded: number;
  total: number;
}

/** A file on its way to storage: the bar with "Uploading… N %". */
export function UploadProgressBar({ progress }: { progress: Progress }) {
  const { t, locale } = useI18n();
  return (
    <ProgressBar
      value={progress.loaded}
      max={progress.total}
      label={t('upload.progressLabel')}
      text={t('upload.uploading', { percent: formatPercent(progress.total ? progress.loaded / progress.total : 0, locale) })}
      phase="uploading"
    />
  );
}

/** The bar of an upload the person may stop (Cancel). */
export function UploadProgress({ progress, onCancel }: { progress: Progress; onCancel: () => void }) {
  const { t } = useI18n();
  return (
    <>
      <UploadProgressBar progress={progress} />
      <div className="actions">
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          {t('upload.cancel')}
        </button>
      </div>
    </>
  );
}
