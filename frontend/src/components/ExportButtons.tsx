import { useState } from 'react';
import { useI18n } from '../i18n';
import { downloadBlob, downloadJson } from '../lib/download';
import { ErrorState } from './States';

/**
 * Export JSON (what the page already has, `json`; none yet: disabled) and Export CSV (asked of the API,
 * `csv`), saved as `jsonName` and `csvName`; a CSV that could not be fetched says why under the buttons.
 */
export function ExportButtons({ json, jsonName, csv, csvName }: {
  json: unknown;
  jsonName: string;
  csv: () => Promise<Blob>;
  csvName: string;
}) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function exportCsv() {
    setError(null);
    setBusy(true);
    try {
      downloadBlob(await csv(), csvName);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <div className="actions export">
        <button type="button" className="btn btn-secondary" onClick={() => json != null && downloadJson(json, jsonName)} disabled={json == null}>
          {t('results.exportJson')}
        </button>
        <button type="button" className="btn btn-secondary" onClick={exportCsv} disabled={busy}>
          {t('results.exportCsv')}
        </button>
      </div>
      {error != null && <ErrorState error={error} />}
    </>
  );
}
