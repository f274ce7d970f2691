import { memo, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useI18n } from '../i18n';
import { emotionColor } from '../lib/emotions';
import { formatPercent } from '../lib/format';
import type { DistributionDatum } from '../lib/shape';
import { useEmotionLabel } from './EmotionChip';

/** Horizontal bars, one per emotion in its colour, with a tooltip. */
export const DistributionChart = memo(function DistributionChart({ data, label, height = 240 }: { data: DistributionDatum[]; label: string; height?: number }) {
  const { locale } = useI18n();
  const name = useEmotionLabel();
  // A stable array, so a re-render hands Recharts the same data. Its bar animation is off (a redraw during
  // it could leave the bars half-drawn); styles.css reveals the bars once instead.
  const rows = useMemo(() => data.map((d) => ({ ...d, name: name(d.label) })), [data, name]);
  return (
    <figure className="chart-figure" role="figure" aria-label={label}>
      <div className="chart-box" style={{ height }}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid stroke="#eef1f4" horizontal={false} />
            <XAxis type="number" domain={[0, 1]}
              ticks={[0, 0.25, 0.5, 0.75, 1]} tickFormatter={(v: number) => formatPercent(v, locale)} tick={{ fontSize: 12, fill: '#5b6670' }} stroke="#c5ccd3" />
            <YAxis type="category" dataKey="name" width={80} tick={{ fontSize: 12, fill: '#33404c' }} stroke="#c5ccd3" />
            <Tooltip
              cursor={{ fill: 'rgba(47,93,98,0.06)' }}
              formatter={(v: number) => [formatPercent(v, locale, 1), '']}
              separator=""
            />
            <Bar dataKey="value" radius={[0, 4, 4, 0]} isAnimationActive={false}>
              {rows.map((d) => (
                <Cell key={d.label} fill={emotionColor(d.label)} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
});
