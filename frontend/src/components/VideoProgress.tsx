import type { Video, Viewer } from '../api/types';
import { useI18n, type MessageKey, type Translate } from '../i18n';
import { ProgressBar } from './ProgressBar';

/** What the analysis of a video is doing, in words (shared by the upload panel and the results page). */
function analysisText(video: Pick<Video, 'status' | 'progress'>, t: Translate): string {
  if (video.status === 'done') return t('upload.done');
  if (video.status === 'pending_upload') return t('status.pending_upload');
  if (video.status === 'processing') {
    return video.progress.total > 0 ? t('upload.processing', { done: video.progress.done, total: video.progress.total }) : t('upload.probing');
  }
  return t('upload.queued');
}

/** Offer "try again" only where a retry can help: a failure of the service (not of the file), or an
 *  analysis that stopped making progress. The server says which (`retryable`). */
export function canRetry(video: Video | Viewer): boolean {
  return video.retryable === true && (video.status === 'failed' || video.stalled === true);
}

/** Why a video failed: the translation of its `error_code`, else the server's sentence. */
export function failureReason(video: Video | Viewer, t: Translate): string {
  const key = `videoError.${video.error_code}` as MessageKey;
  if (video.error_code && key !== t(key)) return t(key);
  return video.error || t('status.failed');
}

export function AnalysisProgress({ video }: { video: Pick<Video, 'status' | 'progress'> }) {
  const { t } = useI18n();
  const done = video.status === 'done';
  return (
    <ProgressBar
      value={done ? 1 : video.progress.done}
      max={done ? 1 : video.progress.total}
      label={t('upload.analysisLabel')}
      text={analysisText(video, t)}
      phase={video.status}
    />
  );
}
