import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';
import type { Stats } from '../api/types';
import { useClient } from '../auth';
import { DataTable } from '../components/DataTable';
import { DistributionChart } from '../components/DistributionChart';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { WeeklyTrend } from '../components/WeeklyTrend';
import { EmotionChip, useEmotionLabel } from '../components/EmotionChip';
import { Empty, ErrorState, Loading } from '../components/States';
import { useI18n } from '../i18n';
import { emotionColor } from '../lib/emotions';
import { formatDate, formatDuration, formatLongDuration, formatNumber, formatPercent, formatSigned } from '../lib/format';
import { statsToChartData } from '../lib/shape';

/** Legend entries in the ink colour (Recharts paints them in the series colour by default). */
const legendText = (value: string) => <span className="legend-text">{value}</span>;

export function StatsPage() {
  const client = useClient();
  const { t, tn, locale } = useI18n();
  const name = useEmotionLabel();
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePageTitle(t('stats.title'));

  const load = useCallback(() => {
    setError(null);
    setStats(null);
    client.stats().then(setStats, setError);
  }, [client]);
  useEffect(load, [load]);

  const data = useMemo(() => (stats ? statsToChartData(stats) : null), [stats]);

  return (
    <div className="stack">
      <div className="page-head">
        <PageHeading>{t('stats.title')}</PageHeading>
        <p className="muted">{t('stats.lead')}</p>
      </div>
      {error != null ? (
        <ErrorState error={error} onRetry={load} />
      ) : !stats || !data ? (
        <Loading />
      ) : stats.videos === 0 ? (
        <section className="panel">
          <Empty>{t('stats.empty')}</Empty>
        </section>
      ) : (
        <>
          <section className="cards cards-5" aria-label={t('stats.title')}>
            <div className="card">
              <p className="card-label">{t('stats.videos')}</p>
              <p className="card-value">{formatNumber(stats.videos, locale)}</p>
            </div>
            <div className="card">
              <p className="card-label">{t('stats.totalDuration')}</p>
              <p className="card-value">{formatLongDuration(stats.total_duration, locale)}</p>
            </div>
            <div className="card">
              <p className="card-label">{t('stats.avgValence')}</p>
              <p className="card-value">{formatSigned(stats.averages.valence, locale)}</p>
            </div>
            <div className="card">
              <p className="card-label">{t('stats.avgExpressiveness')}</p>
              <p className="card-value">{formatPercent(stats.averages.expressiveness, locale)}</p>
            </div>
            <div className="card">
              <p className="card-label">{t('stats.avgPresence')}</p>
              <p className="card-value">{formatPercent(stats.averages.face_presence, locale)}</p>
            </div>
          </section>
          <div className="results-grid results-grid-even">
            <section className="panel" aria-labelledby="dist-title">
              <h2 id="dist-title">{t('stats.distribution')}</h2>
              <DistributionChart data={data.distribution} label={t('stats.distributionLabel')} height={280} />
            </section>
            <section className="panel" aria-labelledby="dom-title">
              <h2 id="dom-title">{t('stats.dominantCount')}</h2>
              <figure className="chart-figure" role="figure" aria-label={t('stats.dominantCount')}>
                <div className="chart-box" style={{ height: 280 }}>
                  <ResponsiveContainer width="100%" height="100%">
                    <PieChart>
                      <Pie
                        data={data.dominantCounts.map((d) => ({ ...d, name: name(d.label === 'none' ? null : d.label) }))}
                        dataKey="count"
                        nameKey="name"
                        innerRadius="52%"
                        outerRadius="82%"
                        paddingAngle={data.dominantCounts.length > 1 ? 2 : 0}
                        strokeWidth={data.dominantCounts.length > 1 ? 1 : 0}
                        isAnimationActive={false}
                      >
                        {data.dominantCounts.map((d) => (
                          <Cell key={d.label} fill={emotionColor(d.label === 'none' ? null : d.label)} />
                        ))}
                      </Pie>
                      <Tooltip formatter={(v: number, n: string) => [tn('stats.videoCount', v), n]} />
                      <Legend iconType="circle" wrapperStyle={{ fontSize: 13 }} formatter={legendText} />
                    </PieChart>
                  </ResponsiveContainer>
                </div>
              </figure>
            </section>
          </div>
          <section className="panel" aria-labelledby="weekly-title">
            <h2 id="weekly-title">{t('stats.weekly')}</h2>
            <WeeklyTrend weeks={data.weekly} label={t('stats.weeklyLabel')} />
          </section>
          <section className="panel" aria-labelledby="pervideo-title">
            <h2 id="pervideo-title">{t('stats.dominantPerVideo')}</h2>
            <DataTable columns={[t('stats.title.col'), t('history.dominant'), t('results.valence'), t('history.duration'), t('history.date')]}>
              {data.perVideo.map((v) => (
                <tr key={v.id}>
                  <td>
                    <Link to={`/videos/${v.id}`}>{v.title}</Link>
                  </td>
                  <td>
                    <EmotionChip label={v.dominant} />
                  </td>
                  <td>{formatSigned(v.valence, locale)}</td>
                  <td>{formatDuration(v.duration)}</td>
                  <td>{formatDate(v.created_at, locale)}</td>
                </tr>
              ))}
            </DataTable>
          </section>
        </>
      )}
    </div>
  );
}
