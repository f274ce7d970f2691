import { memo, useId, useMemo, useRef, type KeyboardEvent, type MutableRefObject } from 'react';
import {
  Area,
  CartesianGrid,
  ComposedChart,
  Customized,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipProps,
} from 'recharts';
import { useI18n } from '../i18n';
import { bandKey, countKey, highKey, lowKey, viewerKey, type BandRow } from '../lib/audience';
import { formatNumber, formatPercent, formatSignedPercent, formatTick, formatTime, timeTicks } from '../lib/format';
import {
  AXIS_STROKE,
  AXIS_TICK,
  Cursor,
  MARGIN,
  PlotAreaProbe,
  STRIP_MARGIN,
  Y_AXIS_WIDTH,
  keepFocus,
  seekHandler,
  usePlotArea,
  type PlotArea,
} from './EmotionTimeline';

/** One drawn series: its mean as a line over its 95% band. */
export interface ChartLayer {
  key: string;
  label: string;
  color: string;
}

/**
 * A strip under the chart: `count`, how many viewers each layer stands on (a step area per layer);
 * `signed`, a difference from -1 to +1 around a zero line. `testId` names its element (default
 * `audience-strip`): a chart with two strips gives them apart.
 */
export type Strip = { label: string; testId?: string } & (
  | { kind: 'count'; keys: { key: string; label: string; color: string }[] }
  | { kind: 'signed'; key: string }
);

/** The study chart's strip: the viewers with a face at each moment (the audience's top-level `n`). */
export const N_COLOR = '#5b6670';

interface Props {
  rows: BandRow[];
  layers: ChartLayer[];
  duration: number;
  currentTime: number;
  onSeek: (t: number) => void;
  /** The strips under the chart, top to bottom. */
  strips: Strip[];
  /** The figure's accessible name. */
  label: string;
  /** A viewer drawn over the audience (dashed, `<key>__viewer` of each layer): their label. */
  viewerLabel?: string | null;
  /** How to read the chart (default: the study page's, where a click seeks the content). */
  hint?: string;
}

const DIFF_COLOR = '#33404c';

/**
 * EmotionTimeline's margins less their 8 px tuck to the left: a signed strip's "+100%" needs that room
 * (it was cut at the figure's edge). Every chart of the figure takes the same, so their plots stay aligned.
 */
const CHART_MARGIN = { ...MARGIN, left: 0 };
const STRIP_CHART_MARGIN = { ...STRIP_MARGIN, left: 0 };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Every layer at the hovered moment: mean, band, n (and the drilled viewer's value, and the difference). */
export function AudienceReadout({ row, layers, strips, viewerLabel }: { row: BandRow; layers: ChartLayer[]; strips: Strip[]; viewerLabel?: string | null }) {
  const { t, locale } = useI18n();
  const sorted = [...layers].sort((a, b) => (num(row[b.key]) ?? -1) - (num(row[a.key]) ?? -1));
  const signed = strips.find((s) => s.kind === 'signed');
  const diff = signed ? num(row[signed.key]) : null;
  return (
    <div className="chart-tooltip audience-tooltip" data-testid="audience-tooltip">
      <p className="chart-tooltip-title">
        {t('results.time')} {formatTime(row.t, locale)}
      </p>
      <ul>
        {sorted.map((l) => {
          const mean = num(row[l.key]);
          const low = num(row[lowKey(l.key)]);
          const high = num(row[highKey(l.key)]);
          const n = num(row[countKey(l.key)]) ?? 0;
          const own = viewerLabel ? num(row[viewerKey(l.key)]) : null;
          return (
            <li key={l.key} data-series={l.key}>
              <span className="chip-dot" style={{ background: l.color }} aria-hidden="true" />
              <span className="chart-tooltip-name">{l.label}</span>
              <span className="chart-tooltip-value">{formatPercent(mean, locale, 1)}</span>
              <span className="audience-band muted">
                {low != null && high != null
                  ? t('study.band', { low: formatPercent(low, locale), high: formatPercent(high, locale) })
                  : t('study.noBand')}
                {' · '}
                <span data-testid="tooltip-n">{t('study.nValue', { n: formatNumber(n, locale) })}</span>
                {viewerLabel && (
                  <>
                    {' · '}
                    {viewerLabel} {formatPercent(own, locale)}
                  </>
                )}
              </span>
            </li>
          );
        })}
        {signed && (
          <li className="chart-tooltip-valence" data-testid="tooltip-diff">
            <span className="chip-dot" style={{ background: DIFF_COLOR }} aria-hidden="true" />
            <span className="chart-tooltip-name">{signed.label}</span>
            <span className="chart-tooltip-value">{diff == null ? t('common.none') : formatSignedPercent(diff, locale)}</span>
          </li>
        )}
      </ul>
    </div>
  );
}

function ChartTooltip({ active, payload, layers, strips, viewerLabel, activeRef }: TooltipProps<number, string> & {
  layers: ChartLayer[];
  strips: Strip[];
  viewerLabel?: string | null;
  activeRef: MutableRefObject<BandRow | null>;
}) {
  if (!active || !payload?.length) {
    activeRef.current = null;
    return null;
  }
  const row = payload[0].payload as BandRow;
  activeRef.current = row;
  return <AudienceReadout row={row} layers={layers} strips={strips} viewerLabel={viewerLabel} />;
}

const MainChart = memo(function MainChart({ rows, layers, end, onSeek, onPlotArea, activeRef, strips, viewerLabel, syncId }: {
  rows: BandRow[];
  layers: ChartLayer[];
  end: number;
  onSeek: (t: number) => void;
  onPlotArea: (a: PlotArea) => void;
  activeRef: MutableRefObject<BandRow | null>;
  strips: Strip[];
  viewerLabel?: string | null;
  syncId: string;
}) {
  const { locale } = useI18n();
  const ticks = useMemo(() => timeTicks(end), [end]);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart accessibilityLayer data={rows} margin={CHART_MARGIN} syncId={syncId} onClick={seekHandler(onSeek)} style={{ cursor: 'pointer' }}>
        <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" />
        <XAxis dataKey="t" type="number" domain={[0, end]} ticks={ticks} tickFormatter={(v: number) => formatTick(v, locale)} tick={AXIS_TICK} stroke={AXIS_STROKE} />
        <YAxis domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tickFormatter={(v: number) => formatPercent(v, locale)} tick={AXIS_TICK} stroke={AXIS_STROKE} width={Y_AXIS_WIDTH} />
        <Tooltip content={<ChartTooltip layers={layers} strips={strips} viewerLabel={viewerLabel} activeRef={activeRef} />} isAnimationActive={false} />
        {layers.map((l) => (
          <Area
            key={`band-${l.key}`}
            className="audience-band-area"
            dataKey={bandKey(l.key)}
            name={`${l.label} 95%`}
            type="linear"
            stroke="none"
            fill={l.color}
            fillOpacity={0.16}
            activeDot={false}
            connectNulls={false}
            isAnimationActive={false}
          />
        ))}
        {layers.map((l) => (
          <Line
            key={`mean-${l.key}`}
            dataKey={l.key}
            name={l.label}
            type="linear"
            stroke={l.color}
            strokeWidth={2}
            dot={false}
            activeDot={{ r: 3 }}
            connectNulls={false}
            isAnimationActive={false}
          />
        ))}
        {viewerLabel &&
          layers.map((l) => (
            <Line
              key={`viewer-${l.key}`}
              className="audience-viewer-line"
              dataKey={viewerKey(l.key)}
              name={`${l.label} · ${viewerLabel}`}
              type="linear"
              stroke={l.color}
              strokeWidth={1.4}
              strokeDasharray="4 3"
              dot={false}
              activeDot={false}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        <Customized component={<PlotAreaProbe onPlotArea={onPlotArea} />} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});

const StripChart = memo(function StripChart({ rows, strip, end, onSeek, onPlotArea, syncId }: {
  rows: BandRow[];
  strip: Strip;
  end: number;
  onSeek: (t: number) => void;
  onPlotArea: (a: PlotArea) => void;
  syncId: string;
}) {
  const { locale } = useI18n();
  const counts = strip.kind === 'count' ? strip.keys : [];
  const maxN = useMemo(() => {
    let m = 1;
    for (const r of rows) for (const c of counts) m = Math.max(m, num(r[c.key]) ?? 0);
    return m;
  }, [rows, counts]);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={rows} margin={STRIP_CHART_MARGIN} syncId={syncId} onClick={seekHandler(onSeek)} style={{ cursor: 'pointer' }}>
        <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="t" type="number" domain={[0, end]} hide />
        {strip.kind === 'count' ? (
          <YAxis domain={[0, maxN]} ticks={[0, maxN]} allowDecimals={false} interval={0} tickFormatter={(v: number) => formatNumber(v, locale)} tick={AXIS_TICK} stroke={AXIS_STROKE} width={Y_AXIS_WIDTH} />
        ) : (
          <YAxis domain={[-1, 1]} ticks={[-1, 0, 1]} interval={0} tickFormatter={(v: number) => formatSignedPercent(v, locale)} tick={AXIS_TICK} stroke={AXIS_STROKE} width={Y_AXIS_WIDTH} />
        )}
        {strip.kind === 'signed' && <ReferenceLine y={0} stroke="#8a96a3" />}
        <Tooltip content={() => null} isAnimationActive={false} />
        {strip.kind === 'count'
          ? counts.map((c) => (
              <Area
                key={c.key}
                className="audience-n-area"
                dataKey={c.key}
                name={c.label}
                type="stepAfter"
                stroke={c.color}
                strokeWidth={1.2}
                fill={c.color}
                fillOpacity={counts.length > 1 ? 0.08 : 0.22}
                activeDot={false}
                isAnimationActive={false}
              />
            ))
          : (
            <Line dataKey={strip.key} name={strip.label} type="linear" stroke={DIFF_COLOR} strokeWidth={1.8} dot={false} activeDot={{ r: 3 }} connectNulls={false} isAnimationActive={false} />
          )}
        <Customized component={<PlotAreaProbe onPlotArea={onPlotArea} />} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});

/** One strip under the chart, titled, with its own playback cursor. */
function StripFigure({ rows, strip, end, currentTime, onSeek, syncId, titleId }: {
  rows: BandRow[];
  strip: Strip;
  end: number;
  currentTime: number;
  onSeek: (t: number) => void;
  syncId: string;
  titleId: string;
}) {
  const [plot, onPlotArea] = usePlotArea();
  return (
    <div className="audience-strip" data-testid={strip.testId ?? 'audience-strip'} data-kind={strip.kind}>
      <p className="valence-title" id={titleId}>
        {strip.label}
      </p>
      <div className="chart-box chart-strip" role="img" aria-labelledby={titleId} onMouseDown={keepFocus}>
        <StripChart rows={rows} strip={strip} end={end} onSeek={onSeek} onPlotArea={onPlotArea} syncId={syncId} />
        <Cursor plot={plot} end={end} time={currentTime} />
      </div>
    </div>
  );
}

/**
 * The audience over the content's time: each layer's mean as a line over its 95% band, and strips under it
 * (how many viewers each moment stands on, a difference). Hover reads every layer at that moment, a click
 * (or Enter on the focused chart) seeks the content video, and a playback cursor follows it as an HTML
 * overlay, so playing never redraws a chart (the ideas and helpers of EmotionTimeline).
 */
export const AudienceChart = memo(function AudienceChart({ rows, layers, duration, currentTime, onSeek, strips, label, viewerLabel, hint }: Props) {
  const { t } = useI18n();
  const syncId = `audience-${useId()}`;
  const activeRef = useRef<BandRow | null>(null);
  const [plot, onPlotArea] = usePlotArea();
  const end = Math.max(duration, rows.length ? rows[rows.length - 1].t : 0) || 1;

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if ((e.key === 'Enter' || e.key === ' ') && activeRef.current) {
      e.preventDefault();
      onSeek(activeRef.current.t);
    }
  }

  return (
    <figure className="chart-figure audience-figure" role="figure" aria-label={label}>
      <div className="chart-box chart-audience" onKeyDown={onKeyDown} onMouseDown={keepFocus} data-testid="audience-chart">
        <MainChart rows={rows} layers={layers} end={end} onSeek={onSeek} onPlotArea={onPlotArea} activeRef={activeRef} strips={strips} viewerLabel={viewerLabel} syncId={syncId} />
        <Cursor plot={plot} end={end} time={currentTime} />
      </div>
      {strips.map((strip, i) => (
        <StripFigure key={strip.testId ?? i} rows={rows} strip={strip} end={end} currentTime={currentTime} onSeek={onSeek} syncId={syncId} titleId={`${syncId}-strip-${i}`} />
      ))}
      <ul className="audience-legend" aria-label={t('study.legend')}>
        {layers.map((l) => (
          <li key={l.key}>
            <span className="legend-swatch" style={{ ['--swatch' as string]: l.color }} aria-hidden="true" />
            {l.label}
          </li>
        ))}
        {viewerLabel && (
          <li>
            <span className="legend-swatch legend-dashed" aria-hidden="true" />
            {viewerLabel}
          </li>
        )}
      </ul>
      <figcaption className="muted">{hint ?? t('study.chartHint')}</figcaption>
    </figure>
  );
});
