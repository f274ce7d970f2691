import { memo, type ReactElement } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useI18n } from '../i18n';
import { formatDay, formatNumber, formatPercent, formatSigned } from '../lib/format';
import type { StatsChartData } from '../lib/shape';

type Week = StatsChartData['weekly'][number];

const TICK = { fontSize: 12, fill: '#5b6670' };
const STROKE = '#c5ccd3';
const MARGIN = { top: 8, right: 12, bottom: 4, left: 0 };
/** The three charts hover together: one week highlighted in all of them. */
const SYNC_ID = 'weekly-trend';

/** One small chart of the trend: its own title with the unit, its own axis, the shared week axis. */
function Multiple({ title, unit, children }: { title: string; unit: string; children: ReactElement }) {
  return (
    <div className="multiple">
      <h3 className="multiple-title">
        {title} <span className="muted">({unit})</span>
      </h3>
      <div className="chart-box chart-multiple">
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </div>
  );
}

/**
 * The weekly trend as small multiples: videos, valence and expressiveness each get a chart and an axis of
 * their own (one measure per chart, with its unit in the title), so no axis needs a legend to be read.
 */
export const WeeklyTrend = memo(function WeeklyTrend({ weeks, label }: { weeks: Week[]; label: string }) {
  const { t, locale } = useI18n();
  const xAxis = (
    <XAxis dataKey="week" tickFormatter={(w: string) => formatDay(w, locale)} tick={TICK} stroke={STROKE} minTickGap={12} />
  );
  const tooltip = (format: (v: number) => string) => (
    <Tooltip
      isAnimationActive={false}
      labelFormatter={(w: string) => t('stats.week', { date: formatDay(w, locale) })}
      formatter={(v: number, n: string) => [format(v), n]}
    />
  );
  return (
    <figure className="chart-figure multiples" role="figure" aria-label={label}>
      <Multiple title={t('stats.weekVideos')} unit={t('stats.unitCount')}>
        <BarChart data={weeks} margin={MARGIN} syncId={SYNC_ID}>
          <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" vertical={false} />
          {xAxis}
          <YAxis allowDecimals={false} tick={TICK} stroke={STROKE} width={40} />
          {tooltip((v) => formatNumber(v, locale))}
          <Bar dataKey="videos" name={t('stats.weekVideos')} fill="#7fa9ac" radius={[4, 4, 0, 0]} maxBarSize={28} isAnimationActive={false} />
        </BarChart>
      </Multiple>
      <Multiple title={t('results.valence')} unit={t('stats.unitValence')}>
        <LineChart data={weeks} margin={MARGIN} syncId={SYNC_ID}>
          <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" vertical={false} />
          {xAxis}
          <YAxis domain={[-1, 1]} ticks={[-1, -0.5, 0, 0.5, 1]} tickFormatter={(v: number) => formatSigned(v, locale)} tick={TICK} stroke={STROKE} width={48} />
          <ReferenceLine y={0} stroke="#8a96a3" />
          {tooltip((v) => formatSigned(v, locale))}
          <Line type="monotone" dataKey="valence" name={t('results.valence')} stroke="#2f5d62" strokeWidth={2.2} dot={{ r: 3 }} isAnimationActive={false} />
        </LineChart>
      </Multiple>
      <Multiple title={t('results.expressiveness')} unit={t('stats.unitExpressiveness')}>
        <LineChart data={weeks} margin={MARGIN} syncId={SYNC_ID}>
          <CartesianGrid stroke="#e6eaee" strokeDasharray="3 3" vertical={false} />
          {xAxis}
          <YAxis domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tickFormatter={(v: number) => formatPercent(v, locale)} tick={TICK} stroke={STROKE} width={48} />
          {tooltip((v) => formatPercent(v, locale))}
          <Line type="monotone" dataKey="expressiveness" name={t('results.expressiveness')} stroke="#8a5a00" strokeWidth={2.2} dot={{ r: 3 }} isAnimationActive={false} />
        </LineChart>
      </Multiple>
    </figure>
  );
});
