import type { VideoSummary } from '../api/types';
import { useI18n } from '../i18n';
import { formatPercent } from '../lib/format';

/**
 * The results page's attention card (Analysis format 2, with landmark signals): the share of the time the
 * faces looked toward the camera, the share they looked away, and blinks per minute of tracked face time
 * (a lower bound at the analysis sample rate; docs/analysis.md). Nothing without attention.
 */
export function AttentionCard({ summary, sampleFps }: { summary: VideoSummary; sampleFps: number }) {
  const { t, locale } = useI18n();
  const { attention, looking_away: away, blinks_per_minute: blinks } = summary;
  if (attention === undefined) return null;
  const rate = blinks === undefined ? '' : new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(blinks);
  return (
    <div className="card card-attention">
      <p className="card-label">{t('results.attention')}</p>
      <p className="card-value">{formatPercent(attention, locale)}</p>
      <div className="meter" aria-hidden="true">
        <i style={{ width: `${attention * 100}%` }} />
      </div>
      <p className="card-hint">{t('results.attentionHint')}</p>
      {(away !== undefined || blinks !== undefined) && (
        <dl className="card-facts">
          {away !== undefined && (
            <div>
              <dt>{t('results.lookingAway')}</dt>
              <dd>{formatPercent(away, locale)}</dd>
            </div>
          )}
          {blinks !== undefined && (
            <div>
              <dt>{t('results.blinks')}</dt>
              <dd>{t('results.blinksValue', { rate })}</dd>
            </div>
          )}
        </dl>
      )}
      {blinks !== undefined && (
        <p className="card-hint">{t('results.blinksHint', { fps: sampleFps })}</p>
      )}
    </div>
  );
}
