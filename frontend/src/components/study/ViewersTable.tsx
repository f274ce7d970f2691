import { useState } from 'react';
import type { Viewer } from '../../api/types';
import { useClient } from '../../auth';
import { useI18n, type MessageKey } from '../../i18n';
import { formatDate, formatNumber } from '../../lib/format';
import { DataTable } from '../DataTable';
import { ErrorState } from '../States';
import { StatusBadge } from '../StatusBadge';
import { canRetry, failureReason } from '../VideoProgress';

interface Props {
  studyId: string;
  viewers: readonly Viewer[];
  /** The viewer whose own curve is drawn over the audience (drill-down), if any. */
  selected: string | null;
  onSelect: (id: string | null) => void;
  /** A viewer was retried or removed: the study reloads its viewers and curve. */
  onChanged: () => void;
}

/** What the analysis of one viewer is doing, in a few words (status badge beside it). */
function progressText(v: Viewer, t: (k: MessageKey, vars?: Record<string, string | number>) => string): string | null {
  if (v.status === 'processing') {
    return v.progress.total > 0 ? t('upload.processing', { done: v.progress.done, total: v.progress.total }) : t('upload.probing');
  }
  if (v.status === 'pending_upload') return t('study.viewer.waiting');
  return null;
}

/**
 * The study's viewers: who (label, source, offset), where their analysis is, what they agreed to (version,
 * language, time), why a failure happened (with "try again" where a retry can help), their own curve, and
 * removal (asked first: the recording and its analysis are deleted).
 */
export function ViewersTable({ studyId, viewers, selected, onSelect, onChanged }: Props) {
  const { t, locale } = useI18n();
  const client = useClient();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function act(id: string, run: () => Promise<unknown>) {
    setBusy(id);
    setError(null);
    try {
      await run();
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  function remove(v: Viewer) {
    if (!window.confirm(t('study.viewer.removeConfirm', { label: v.label }))) return;
    if (selected === v.id) onSelect(null);
    act(v.id, () => client.deleteViewer(studyId, v.id));
  }

  return (
    <>
      {error != null && <ErrorState error={error} />}
      <DataTable
        className="viewers-table"
        columns={[t('study.viewer.label'), t('study.viewer.source'), t('study.viewer.offset'), t('study.viewer.status'), t('study.viewer.consent')]}
        actions={t('study.viewer.actions')}
      >
        {viewers.map((v) => {
          const progress = progressText(v, t);
          return (
            <tr key={v.id} data-viewer={v.id} className={selected === v.id ? 'row-selected' : undefined}>
              <th scope="row">{v.label}</th>
              <td>{t(v.source === 'invite' ? 'study.viewer.sourceInvite' : 'study.viewer.sourceCreator')}</td>
              <td className="num">{t('study.viewer.offsetValue', { offset: formatNumber(v.offset, locale) })}</td>
              <td>
                <StatusBadge status={v.status} />
                {progress && <span className="small muted viewer-progress"> {progress}</span>}
                {v.status === 'failed' && (
                  <p className="field-error viewer-error">{failureReason(v, t)}</p>
                )}
              </td>
              <td className="small">
                {v.consent ? (
                  <>
                    {t('study.viewer.consentValue', { version: v.consent.text_version, language: v.consent.language.toUpperCase() })}
                    <br />
                    <span className="muted">{formatDate(v.consent.recorded_at, locale)}</span>
                  </>
                ) : (
                  t('common.none')
                )}
              </td>
              <td>
                <div className="row-actions">
                  {v.status === 'done' && (
                    <button
                      type="button"
                      className={`btn btn-small ${selected === v.id ? 'btn-primary' : 'btn-secondary'}`}
                      aria-pressed={selected === v.id}
                      onClick={() => onSelect(selected === v.id ? null : v.id)}
                    >
                      {t('study.viewer.showCurve')}
                      <span className="sr-only"> {v.label}</span>
                    </button>
                  )}
                  {canRetry(v) && (
                    <button type="button" className="btn btn-small btn-secondary" disabled={busy === v.id} onClick={() => act(v.id, () => client.retryVideo(v.id))}>
                      {t('common.retry')}
                      <span className="sr-only"> {v.label}</span>
                    </button>
                  )}
                  <button type="button" className="btn btn-small btn-danger" disabled={busy === v.id} onClick={() => remove(v)}>
                    {t('study.viewer.remove')}
                    <span className="sr-only"> {v.label}</span>
                  </button>
                </div>
              </td>
            </tr>
          );
        })}
      </DataTable>
    </>
  );
}
