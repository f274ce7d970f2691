import { memo } from 'react';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipProps,
} from 'recharts';
import { useI18n } from '../i18n';
import { EMOTION_COLORS, emotionColor } from '../lib/emotions';
import { formatPercent, formatTick, formatTime, timeTicks } from '../lib/format';
import type { ChartRow } from '../lib/shape';
import { useEmotionLabel } from './EmotionChip';

interface Props {
  rows: ChartRow[];
  labels: string[];
  duration: number;
  currentTime: number;
  onSeek: (t: number) => void;
}

function TimelineTooltip({ active, payload, labels }: TooltipProps<number, string> & { labels: string[] }) {
  const { t, locale } = useI18n();
  const name = useEmotionLabel();
  if (!active || !payload?.length) return null;
  const row = payload[0].payload as ChartRow;
  const hasFace = labels.some((l) => row[l] != null);
  return (
    <div className="chart-tooltip" data-testid="timeline-tooltip">
      <p className="chart-tooltip-title">
        {t('results.time')} {formatTime(row.t)} · {t('results.facesAt')}: <strong data-testid="tooltip-faces">{row.faces}</strong>
      </p>
      {hasFace ? (
        <ul>
          {[...labels]
            .sort((a, b) => (row[b] ?? 0) - (row[a] ?? 0))
            .map((l) => (
              <li key={l}>
                <span className="chip-dot" style={{ background: emotionColor(l) }} aria-hidden="true" />
                <span className="chart-tooltip-name">{name(l)}</span>
                <span className="chart-tooltip-value">{formatPercent(row[l], locale, 1)}</span>
              </li>
            ))}
        </ul>
      ) : (
        <p className="muted">{t('results.noFace')}</p>
      )}
    </div>
  );
}

/** Emotions over time, one animated line per emotion; a cursor follows playback and a click seeks. */
export const EmotionTimeline = memo(function EmotionTimeline({ rows, labels, duration, currentTime, onSeek }: Props) {
  const { t, locale } = useI18n();
  const name = useEmotionLabel();
  const end = Math.max(duration, rows.length ? rows[rows.length - 1].t : 0) || 1;
  const ticks = timeTicks(end);
  return (
    <figure className="chart-figure" role="figure" aria-label={t('results.timeline')}>
      <div className="chart-box chart-timeline">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart
            accessibilityLayer
            data={rows}
            margin={{ top: 8, right: 16, bottom: 4, left: -8 }}
            onClick={(state) => {
              const s = state as { activeLabel?: number | string; activePayload?: { payload?: ChartRow }[] } | null;
              const tt = s?.activePayload?.[0]?.payload?.t ?? (s?.activeLabel != null ? Number(s.activeLabel) : NaN);
              if (Number.isFinite(tt)) onSeek(tt);
            }}
            style={{ cursor: 'pointer' }}
          >
            <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" />
            <XAxis
              dataKey="t"
              type="number"
              domain={[0, end]}
              ticks={ticks}
              tickFormatter={(v: number) => formatTick(v)}
              tick={{ fontSize: 12, fill: '#5b6670' }}
              stroke="#c5ccd3"
            />
            <YAxis
              domain={[0, 1]}
              ticks={[0, 0.25, 0.5, 0.75, 1]}
              tickFormatter={(v: number) => formatPercent(v, locale)}
              tick={{ fontSize: 12, fill: '#5b6670' }}
              stroke="#c5ccd3"
              width={56}
            />
            <Tooltip content={<TimelineTooltip labels={labels} />} isAnimationActive={false} />
            <Legend
              formatter={(value: string) => <span className="legend-text">{name(value)}</span>}
              iconType="circle"
              wrapperStyle={{ fontSize: 13, paddingTop: 4 }}
            />
            {labels.map((l) => (
              <Line
                key={l}
                type="monotone"
                dataKey={l}
                name={l}
                stroke={EMOTION_COLORS[l] ?? emotionColor(l)}
                strokeWidth={l === 'neutral' ? 1.6 : 2.2}
                dot={false}
                activeDot={{ r: 4 }}
                connectNulls={false}
                isAnimationActive
                animationDuration={900}
                animationEasing="ease-out"
              />
            ))}
            <ReferenceLine x={currentTime} stroke="#1f2d3a" strokeWidth={1.5} strokeDasharray="4 3" ifOverflow="extendDomain" />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted">{t('results.timelineHint')}</figcaption>
    </figure>
  );
});
