import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Comparison } from '../api/types';
import { useClient } from '../auth';
import { AudienceChart, type ChartLayer, type Strip } from '../components/AudienceChart';
import { useEmotionLabel } from '../components/EmotionChip';
import { MomentButton } from '../components/MomentButton';
import { BackLink, PageHeading, usePageTitle } from '../components/PageHeading';
import { RecordSelect } from '../components/RecordSelect';
import { Empty, ErrorState, Loading } from '../components/States';
import { useI18n } from '../i18n';
import { EXPRESSION_SERIES, REACTION_GROUP_SERIES, compareRows, countKey, largestDifferences } from '../lib/audience';
import { formatPercent, formatSignedPercent } from '../lib/format';
import { useLoad } from '../lib/useLoad';

/** The two studies' colours (apart from each other and readable on white). */
const COLOR_A = '#2f6db5';
const COLOR_B = '#c0561a';
const ALL_SERIES = [...EXPRESSION_SERIES, ...REACTION_GROUP_SERIES];

/**
 * /studies/compare?a=&b=: two studies' audiences of one series on one timeline, each mean with its 95%
 * band, and their difference (A - B) under them, with the moments where they differ most.
 */
export function ComparePage() {
  const client = useClient();
  const { t, locale } = useI18n();
  const name = useEmotionLabel();
  const id = useId();
  usePageTitle(t('compare.title'));
  const [params, setParams] = useSearchParams();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const [series, setSeries] = useState(params.get('series') ?? 'happy');
  const [cmp, setCmp] = useState<Comparison | null>(null);
  const [cmpError, setCmpError] = useState<unknown>(null);
  const [currentTime, setCurrentTime] = useState(0);

  const list = useLoad(useCallback(() => client.listStudies().then((p) => p.items), [client]));
  const studies = list.value;

  const studyA = studies?.find((s) => s.id === a);
  const studyB = studies?.find((s) => s.id === b);
  const ready = Boolean(studyA && studyB && a !== b);

  const loadCompare = useCallback(() => {
    setCmp(null);
    setCmpError(null);
    if (!ready) return;
    client.compare(a, b).then(setCmp, setCmpError);
  }, [client, a, b, ready]);
  useEffect(loadCompare, [loadCompare]);

  function pick(key: 'a' | 'b', value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  }

  const available = cmp ? ALL_SERIES.filter((s) => s in cmp.difference) : ALL_SERIES;
  const shown = available.includes(series) ? series : available[0] ?? series;
  const rows = useMemo(() => (cmp ? compareRows(cmp, shown) : []), [cmp, shown]);
  const diffs = useMemo(() => largestDifferences(rows), [rows]);
  const layers: ChartLayer[] = useMemo(
    () => [
      { key: 'a', label: studyA?.title ?? 'A', color: COLOR_A },
      { key: 'b', label: studyB?.title ?? 'B', color: COLOR_B },
    ],
    [studyA?.title, studyB?.title],
  );
  // Under the curves: how many viewers each study's mean stands on (as on the study page), then A - B.
  const strips: Strip[] = useMemo(
    () => [
      {
        kind: 'count',
        testId: 'audience-n-strip',
        label: t('study.nStrip'),
        keys: layers.map((l) => ({ key: countKey(l.key), label: l.label, color: l.color })),
      },
      { kind: 'signed', key: 'diff', label: t('compare.difference') },
    ],
    [t, layers],
  );
  const duration = cmp ? cmp.t[cmp.t.length - 1] ?? 0 : 0;

  return (
    <div className="stack">
      <div className="page-head">
        <BackLink to="/studies">{t('studies.back')}</BackLink>
        <PageHeading>{t('compare.title')}</PageHeading>
        <p className="muted">{t('compare.lead')}</p>
      </div>
      <section className="panel" aria-label={t('compare.pick')}>
        {list.error != null ? (
          <ErrorState error={list.error} onRetry={list.reload} />
        ) : !studies ? (
          <Loading />
        ) : studies.length < 2 ? (
          <Empty>{t('compare.needTwo')}</Empty>
        ) : (
          <div className="compare-picks">
            {(['a', 'b'] as const).map((key) => (
              <div className="field" key={key}>
                <label htmlFor={`${id}-${key}`}>
                  <span className="chip-dot" style={{ background: key === 'a' ? COLOR_A : COLOR_B }} aria-hidden="true" />{' '}
                  {t(key === 'a' ? 'compare.studyA' : 'compare.studyB')}
                </label>
                <RecordSelect
                  id={`${id}-${key}`}
                  value={key === 'a' ? a : b}
                  onChange={(v) => pick(key, v)}
                  none={t('compare.choose')}
                  items={studies.map((s) => ({ id: s.id, name: s.title }))}
                />
              </div>
            ))}
            <div className="field">
              <label htmlFor={`${id}-series`}>{t('compare.series')}</label>
              <select id={`${id}-series`} value={shown} onChange={(e) => setSeries(e.target.value)}>
                {available.map((s) => (
                  <option key={s} value={s}>
                    {name(s)}
                  </option>
                ))}
              </select>
            </div>
          </div>
        )}
        {a && b && a === b && <p className="notice">{t('compare.same')}</p>}
      </section>
      {ready && (
        <section className="panel" aria-labelledby={`${id}-chart`}>
          <h2 id={`${id}-chart`}>{t('compare.chartTitle', { series: name(shown) })}</h2>
          {cmpError != null ? (
            <ErrorState error={cmpError} onRetry={loadCompare} />
          ) : !cmp ? (
            <Loading />
          ) : (
            <>
              <AudienceChart
                rows={rows}
                layers={layers}
                duration={duration}
                currentTime={currentTime}
                onSeek={setCurrentTime}
                strips={strips}
                label={t('compare.chartTitle', { series: name(shown) })}
                hint={t('compare.chartHint')}
              />
              <h3>{t('compare.largest')}</h3>
              {diffs.length === 0 ? (
                <p className="muted">{t('compare.noOverlap')}</p>
              ) : (
                <ol className="compare-diffs" data-testid="compare-diffs">
                  {diffs.map((d) => (
                    <li key={d.t}>
                      <MomentButton t={d.t} color={d.diff >= 0 ? COLOR_A : COLOR_B} onSeek={setCurrentTime}>
                        <span>
                          {t('compare.diffAt', {
                            a: formatPercent(d.a, locale),
                            b: formatPercent(d.b, locale),
                          })}
                        </span>
                        <span className="moment-score">{formatSignedPercent(d.diff, locale)}</span>
                      </MomentButton>
                    </li>
                  ))}
                </ol>
              )}
            </>
          )}
        </section>
      )}
    </div>
  );
}
