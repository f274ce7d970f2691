import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type MutableRefObject, type ReactNode } from 'react';
import {
  Area,
  AreaChart,
  CartesianGrid,
  ComposedChart,
  Customized,
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
import { nearestRow, downsampleRows } from '../lib/downsample';
import { EMOTION_COLORS, emotionColor } from '../lib/emotions';
import { formatPercent, formatSigned, formatTick, formatTime, timeTicks } from '../lib/format';
import type { ChartRow } from '../lib/shape';
import { DISPLAY_SMOOTHING_SECONDS, VALENCE_KEY, ribbonKey, ribbonRows, smoothRows, withValence } from '../lib/timeline';
import { useEmotionLabel } from './EmotionChip';

/** How the emotions are drawn: one line each, stacked shares, or a ribbon in the dominant emotion's colour. */
export type TimelineView = 'lines' | 'stacked' | 'ribbon';

interface Props {
  /** The samples as analysed (lib/shape.ts). */
  rows: ChartRow[];
  labels: string[];
  duration: number;
  currentTime: number;
  onSeek: (t: number) => void;
  view?: TimelineView;
  /** Every sample as analysed instead of the display smoothing (lib/timeline.ts). */
  raw?: boolean;
  /** The valence strip under the chart (emotions only). */
  valence?: boolean;
}

export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The two charts share hover and keyboard position (Recharts syncs charts with one syncId by index).
 *  The plot-area probe, cursor, seek and focus helpers below are shared with the audience charts. */
const SYNC_ID = 'emotion-timeline';
export const MARGIN = { top: 8, right: 16, bottom: 4, left: -8 };
/** The strip has no time axis of its own: room below for its "-1" label, the same left and right. */
export const STRIP_MARGIN = { ...MARGIN, top: 8, bottom: 8 };
export const Y_AXIS_WIDTH = 56;
export const AXIS_TICK = { fontSize: 12, fill: '#5b6670' };
export const AXIS_STROKE = '#c5ccd3';
const VALENCE_UP = '#b57a00';
const VALENCE_DOWN = '#d9534f';

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
  // The drawn point may be a bucket of samples: show the real (displayed) sample nearest to it.
  const drawn = payload[0].payload as ChartRow;
  const row = nearestRow(rows, drawn.t) ?? drawn;
  activeRef.current = row;
  const hasFace = labels.some((l) => row[l] != null);
  const valence = row[VALENCE_KEY];
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
          {valence != null && (
            <li className="chart-tooltip-valence" data-testid="tooltip-valence">
              <span className="chip-dot" style={{ background: valence < 0 ? VALENCE_DOWN : VALENCE_UP }} aria-hidden="true" />
              <span className="chart-tooltip-name">{t('results.valence')}</span>
              <span className="chart-tooltip-value">{formatSigned(valence, locale)}</span>
            </li>
          )}
        </ul>
      ) : (
        <p className="muted">{t('results.noFace')}</p>
      )}
    </div>
  );
}

/** Reports the plot area (inside the axes) so the playback cursor can be drawn over the chart. */
export function PlotAreaProbe({ offset, onPlotArea }: { offset?: PlotArea; onPlotArea: (a: PlotArea) => void }) {
  const left = offset?.left ?? 0;
  const top = offset?.top ?? 0;
  const width = offset?.width ?? 0;
  const height = offset?.height ?? 0;
  useEffect(() => {
    if (width > 0) onPlotArea({ left, top, width, height });
  }, [left, top, width, height, onPlotArea]);
  return null;
}

/** A setter that keeps the previous object when the area did not move (no re-render for nothing). */
export function usePlotArea() {
  const [plot, setPlot] = useState<PlotArea | null>(null);
  const onPlotArea = useCallback(
    (a: PlotArea) =>
      setPlot((p) => (p && p.left === a.left && p.top === a.top && p.width === a.width && p.height === a.height ? p : a)),
    [],
  );
  return [plot, onPlotArea] as const;
}

/** The playback cursor: an HTML overlay, so playing the video never redraws a chart. */
export function Cursor({ plot, end, time }: { plot: PlotArea | null; end: number; time: number }) {
  if (!plot) return null;
  const x = plot.left + (Math.min(Math.max(time, 0), end) / end) * plot.width;
  return <div className="timeline-cursor" aria-hidden="true" style={{ left: x, top: plot.top, height: plot.height }} />;
}

/**
 * A mouse press does not focus the chart: focusing it starts Recharts' keyboard layer, which moves the
 * tooltip to the first sample while the pointer is elsewhere. Keyboard users reach it with Tab.
 */
export const keepFocus = (e: MouseEvent) => e.preventDefault();

/** Click anywhere on a chart: seek to the sample under the pointer. */
export function seekHandler(onSeek: (t: number) => void) {
  return (state: unknown) => {
    const s = state as { activeLabel?: number | string; activePayload?: { payload?: ChartRow }[] } | null;
    const tt = s?.activePayload?.[0]?.payload?.t ?? (s?.activeLabel != null ? Number(s.activeLabel) : NaN);
    if (Number.isFinite(tt)) onSeek(tt);
  };
}

/** The Recharts chart itself; it does not depend on the playback time, so playing the video never redraws it. */
const TimelineChart = memo(function TimelineChart({ view, data, shown, labels, series, end, onSeek, onPlotArea, activeRef }: {
  view: TimelineView;
  data: ChartRow[];
  /** The full-resolution rows the tooltip reads (the data may be downsampled). */
  shown: ChartRow[];
  labels: string[];
  /** The series drawn: the labels, or (ribbon) the labels that are dominant somewhere. */
  series: string[];
  end: number;
  onSeek: (t: number) => void;
  onPlotArea: (a: PlotArea) => void;
  activeRef: MutableRefObject<ChartRow | null>;
}) {
  const { locale } = useI18n();
  const name = useEmotionLabel();
  const ticks = useMemo(() => timeTicks(end), [end]);
  const color = (l: string) => EMOTION_COLORS[l] ?? emotionColor(l);
  // Recharts' own animations are off: a redraw while one runs (a hover, new data) could leave the curves
  // half-drawn. The curves are revealed once by CSS instead (styles.css, `chart-reveal`).
  const common: ReactNode[] = [
    <CartesianGrid key="grid" stroke="#e6eaee" strokeDasharray="3 3" />,
    <XAxis
      key="x"
      dataKey="t"
      type="number"
      domain={[0, end]}
      ticks={ticks}
      tickFormatter={(v: number) => formatTick(v, locale)}
      tick={AXIS_TICK}
      stroke={AXIS_STROKE}
    />,
    <YAxis
      key="y"
      domain={[0, 1]}
      ticks={[0, 0.25, 0.5, 0.75, 1]}
      tickFormatter={(v: number) => formatPercent(v, locale)}
      tick={view === 'ribbon' ? false : AXIS_TICK}
      stroke={AXIS_STROKE}
      width={Y_AXIS_WIDTH}
    />,
    <Tooltip key="tip" content={<TimelineTooltip labels={labels} rows={shown} activeRef={activeRef} />} isAnimationActive={false} />,
    <Legend
      key="legend"
      verticalAlign="top"
      formatter={(value: string) => <span className="legend-text">{name(value)}</span>}
      iconType="circle"
      wrapperStyle={{ fontSize: 13, paddingBottom: 4 }}
    />,
    <Customized key="probe" component={<PlotAreaProbe onPlotArea={onPlotArea} />} />,
  ];
  const chartProps = {
    accessibilityLayer: true,
    data,
    margin: MARGIN,
    syncId: SYNC_ID,
    onClick: seekHandler(onSeek),
    style: { cursor: 'pointer' },
  };
  return (
    <ResponsiveContainer width="100%" height="100%">
      {view === 'lines' ? (
        <LineChart {...chartProps}>
          {common}
          {series.map((l) => (
            <Line
              key={l}
              type="monotone"
              dataKey={l}
              name={l}
              stroke={color(l)}
              strokeWidth={l === 'neutral' ? 1.6 : 2.2}
              dot={false}
              activeDot={{ r: 4 }}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      ) : (
        <AreaChart {...chartProps}>
          {common}
          {series.map((l) => (
            <Area
              key={l}
              type={view === 'ribbon' ? 'step' : 'monotone'}
              dataKey={view === 'ribbon' ? ribbonKey(l) : l}
              name={l}
              stackId="emotions"
              stroke={view === 'ribbon' ? 'none' : color(l)}
              strokeWidth={0.8}
              fill={color(l)}
              fillOpacity={view === 'ribbon' ? 0.9 : l === 'neutral' ? 0.35 : 0.75}
              activeDot={view === 'ribbon' ? false : { r: 3 }}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        </AreaChart>
      )}
    </ResponsiveContainer>
  );
});

const positive = (r: ChartRow) => (r[VALENCE_KEY] == null ? null : Math.max(0, r[VALENCE_KEY] as number));
const negative = (r: ChartRow) => (r[VALENCE_KEY] == null ? null : Math.min(0, r[VALENCE_KEY] as number));

/** The valence strip: one measure, its own labelled axis from -1 to +1, the same time axis as the chart. */
const ValenceChart = memo(function ValenceChart({ data, end, onSeek, onPlotArea }: {
  data: ChartRow[];
  end: number;
  onSeek: (t: number) => void;
  onPlotArea: (a: PlotArea) => void;
}) {
  const { locale } = useI18n();
  const signed = useMemo(() => new Intl.NumberFormat(locale, { signDisplay: 'exceptZero' }), [locale]);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={data} margin={STRIP_MARGIN} syncId={SYNC_ID} onClick={seekHandler(onSeek)} style={{ cursor: 'pointer' }}>
        <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="t" type="number" domain={[0, end]} hide />
        <YAxis
          domain={[-1, 1]}
          ticks={[-1, 0, 1]}
          interval={0}
          tickFormatter={(v: number) => signed.format(v)}
          tick={AXIS_TICK}
          stroke={AXIS_STROKE}
          width={Y_AXIS_WIDTH}
        />
        <ReferenceLine y={0} stroke="#8a96a3" />
        {/* The hover readout is the main chart's tooltip (synced); here only the cursor line shows. */}
        <Tooltip content={() => null} isAnimationActive={false} />
        <Area dataKey={positive} name="valence+" type="monotone" stroke="none" fill={VALENCE_UP} fillOpacity={0.35} activeDot={false} isAnimationActive={false} />
        <Area dataKey={negative} name="valence-" type="monotone" stroke="none" fill={VALENCE_DOWN} fillOpacity={0.35} activeDot={false} isAnimationActive={false} />
        <Line dataKey={VALENCE_KEY} type="monotone" stroke="#33404c" strokeWidth={1.8} dot={false} activeDot={{ r: 3 }} isAnimationActive={false} />
        <Customized component={<PlotAreaProbe onPlotArea={onPlotArea} />} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});

/**
 * Emotions over time, as lines, stacked shares or a dominant-emotion ribbon, smoothed for display over
 * `DISPLAY_SMOOTHING_SECONDS` unless `raw`; with `valence`, a valence strip under it on the same time axis.
 * Long videos are downsampled to about two points per pixel; the playback cursor is an HTML overlay, so the
 * charts are not re-rendered on every `timeupdate`. Click either chart, or Enter/Space on the focused chart,
 * to seek the video.
 */
export const EmotionTimeline = memo(function EmotionTimeline({ rows, labels, duration, currentTime, onSeek, view = 'lines', raw = false, valence = false }: Props) {
  const { t, locale } = useI18n();
  const boxRef = useRef<HTMLDivElement>(null);
  const activeRef = useRef<ChartRow | null>(null);
  const [plot, onPlotArea] = usePlotArea();
  const [valencePlot, onValencePlotArea] = usePlotArea();
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

  const end = Math.max(duration, rows.length ? rows[rows.length - 1].t : 0) || 1;
  // About two points per pixel of the plot (the box width until the plot is measured; 2,000 before either).
  const pixels = plot?.width || boxWidth || 1000;
  const maxPoints = Math.max(200, Math.round(pixels * 2));

  // Every step is memoized on its inputs, so a re-render (hover, playback, a poll) hands the charts the very
  // same arrays and nothing is redrawn.
  const shown = useMemo(() => {
    const smoothed = raw ? rows : smoothRows(rows, labels);
    return valence ? withValence(smoothed) : smoothed;
  }, [rows, labels, raw, valence]);
  const keys = useMemo(() => (valence ? [...labels, VALENCE_KEY] : labels), [labels, valence]);
  // Lines keep each bucket's peak (short expressions stay visible); shares and valence are averaged.
  const averaged = useMemo(() => (view === 'lines' ? [VALENCE_KEY] : keys), [view, keys]);
  const data = useMemo(() => downsampleRows(shown, keys, maxPoints, averaged), [shown, keys, maxPoints, averaged]);
  const ribbon = useMemo(() => (view === 'ribbon' ? ribbonRows(data, labels) : null), [view, data, labels]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if ((e.key === 'Enter' || e.key === ' ') && activeRef.current) {
      e.preventDefault();
      onSeek(activeRef.current.t);
    }
  }

  const reading = view === 'ribbon' ? `${t('results.ribbonHint')} ` : view === 'stacked' ? `${t('results.stackedHint')} ` : '';
  const smoothing = raw
    ? t('results.rawNote')
    : t('results.smoothedNote', { seconds: new Intl.NumberFormat(locale).format(DISPLAY_SMOOTHING_SECONDS) });
  return (
    <figure className="chart-figure" role="figure" aria-label={t('results.timeline')} data-view={view} data-raw={raw}>
      {noFace ? (
        <div className="chart-box chart-timeline chart-empty" data-testid="timeline-empty">
          <p>{t('results.noFaceInVideo')}</p>
        </div>
      ) : (
        <>
          <div className={`chart-box chart-timeline chart-timeline-${view}`} ref={boxRef} onKeyDown={onKeyDown} onMouseDown={keepFocus}>
            <TimelineChart
              view={view}
              data={ribbon?.rows ?? data}
              shown={shown}
              labels={labels}
              series={ribbon?.present ?? labels}
              end={end}
              onSeek={onSeek}
              onPlotArea={onPlotArea}
              activeRef={activeRef}
            />
            <Cursor plot={plot} end={end} time={currentTime} />
          </div>
          {valence && (
            <div className="valence-strip" data-testid="valence-strip">
              <p className="valence-title" id="valence-title">
                {t('results.valence')} <span className="muted">({t('results.valenceHint')})</span>
              </p>
              <div className="chart-box chart-valence" role="img" aria-labelledby="valence-title" onMouseDown={keepFocus}>
                <ValenceChart data={ribbon?.rows ?? data} end={end} onSeek={onSeek} onPlotArea={onValencePlotArea} />
                <Cursor plot={valencePlot} end={end} time={currentTime} />
              </div>
            </div>
          )}
        </>
      )}
      {!noFace && (
        <figcaption className="muted">
          {reading}
          {t('results.timelineHint')} {smoothing}
        </figcaption>
      )}
    </figure>
  );
});
