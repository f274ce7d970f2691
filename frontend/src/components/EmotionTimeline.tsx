import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MutableRefObject } from 'react';
import {
  CartesianGrid,
  Customized,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipProps,
} from 'recharts';
import { useI18n } from '../i18n';
import { nearestRow, downsampleRows } from '../lib/downsample';
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

/** Above this many samples the lines appear at once: animating thousands of points stalls the page. */
const ANIMATE_MAX_POINTS = 1000;

interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

function TimelineTooltip({ active, payload, labels, rows, activeRef }: TooltipProps<number, string> & {
  labels: string[];
  rows: ChartRow[];
  activeRef: MutableRefObject<ChartRow | null>;
}) {
  const { t, locale } = useI18n();
  const name = useEmotionLabel();
  if (!active || !payload?.length) {
    activeRef.current = null;
    return null;
  }
  // The drawn point may be a bucket of samples: show the real sample nearest to it.
  const drawn = payload[0].payload as ChartRow;
  const row = nearestRow(rows, drawn.t) ?? drawn;
  activeRef.current = row;
  const hasFace = labels.some((l) => row[l] != null);
  return (
    <div className="chart-tooltip" data-testid="timeline-tooltip">
      <p className="chart-tooltip-title">
        {t('results.time')} {formatTime(row.t, locale)} · {t('results.facesAt')}: <strong data-testid="tooltip-faces">{row.faces}</strong>
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

/** Reports the plot area (inside the axes) so the playback cursor can be drawn over the chart. */
function PlotAreaProbe({ offset, onPlotArea }: { offset?: PlotArea; onPlotArea: (a: PlotArea) => void }) {
  const left = offset?.left ?? 0;
  const top = offset?.top ?? 0;
  const width = offset?.width ?? 0;
  const height = offset?.height ?? 0;
  useEffect(() => {
    if (width > 0) onPlotArea({ left, top, width, height });
  }, [left, top, width, height, onPlotArea]);
  return null;
}

/** The Recharts chart itself; it does not depend on the playback time, so playing the video never redraws it. */
const TimelineChart = memo(function TimelineChart({ rows, data, labels, end, animate, onSeek, onPlotArea, activeRef }: {
  rows: ChartRow[];
  data: ChartRow[];
  labels: string[];
  end: number;
  animate: boolean;
  onSeek: (t: number) => void;
  onPlotArea: (a: PlotArea) => void;
  activeRef: MutableRefObject<ChartRow | null>;
}) {
  const { locale } = useI18n();
  const name = useEmotionLabel();
  const ticks = useMemo(() => timeTicks(end), [end]);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart
        accessibilityLayer
        data={data}
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
          tickFormatter={(v: number) => formatTick(v, locale)}
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
        <Tooltip content={<TimelineTooltip labels={labels} rows={rows} activeRef={activeRef} />} isAnimationActive={false} />
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
            isAnimationActive={animate}
            animationDuration={900}
            animationEasing="ease-out"
          />
        ))}
        <Customized component={<PlotAreaProbe onPlotArea={onPlotArea} />} />
      </LineChart>
    </ResponsiveContainer>
  );
});

/**
 * Emotions over time, one line per emotion (drawn in with an animation unless the video is long). Long videos
 * are downsampled to about two points per pixel; the playback cursor is an HTML overlay, so the chart is not
 * re-rendered on every `timeupdate`. Click, or Enter/Space on the focused chart, seeks the video.
 */
export const EmotionTimeline = memo(function EmotionTimeline({ rows, labels, duration, currentTime, onSeek }: Props) {
  const { t } = useI18n();
  const boxRef = useRef<HTMLDivElement>(null);
  const activeRef = useRef<ChartRow | null>(null);
  const [plot, setPlot] = useState<PlotArea | null>(null);
  const [boxWidth, setBoxWidth] = useState(0);
  const noFace = rows.length > 0 && rows.every((r) => !r.faces && labels.every((l) => r[l] == null));

  useEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    setBoxWidth(el.clientWidth);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setBoxWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, [noFace]);

  const onPlotArea = useCallback(
    (a: PlotArea) =>
      setPlot((p) => (p && p.left === a.left && p.top === a.top && p.width === a.width && p.height === a.height ? p : a)),
    [],
  );

  const end = Math.max(duration, rows.length ? rows[rows.length - 1].t : 0) || 1;
  // About two points per pixel of the plot (the box width until the plot is measured; 2,000 before either).
  const pixels = plot?.width || boxWidth || 1000;
  const maxPoints = Math.max(200, Math.round(pixels * 2));
  const data = useMemo(() => downsampleRows(rows, labels, maxPoints), [rows, labels, maxPoints]);
  const animate = rows.length <= ANIMATE_MAX_POINTS;

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if ((e.key === 'Enter' || e.key === ' ') && activeRef.current) {
      e.preventDefault();
      onSeek(activeRef.current.t);
    }
  }

  const cursorX = plot ? plot.left + (Math.min(Math.max(currentTime, 0), end) / end) * plot.width : null;
  return (
    <figure className="chart-figure" role="figure" aria-label={t('results.timeline')}>
      {noFace ? (
        <div className="chart-box chart-timeline chart-empty" data-testid="timeline-empty">
          <p>{t('results.noFaceInVideo')}</p>
        </div>
      ) : (
        <div className="chart-box chart-timeline" ref={boxRef} onKeyDown={onKeyDown}>
          <TimelineChart
            rows={rows}
            data={data}
            labels={labels}
            end={end}
            animate={animate}
            onSeek={onSeek}
            onPlotArea={onPlotArea}
            activeRef={activeRef}
          />
          {plot && cursorX != null && (
            <div
              className="timeline-cursor"
              aria-hidden="true"
              style={{ left: cursorX, top: plot.top, height: plot.height }}
            />
          )}
        </div>
      )}
      {!noFace && <figcaption className="muted">{t('results.timelineHint')}</figcaption>}
    </figure>
  );
});
