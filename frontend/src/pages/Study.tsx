import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { AudienceCurve, AudienceMoment, Study, ViewerCurve } from '../api/types';
import { useClient } from '../auth';
import { AudienceChart, N_COLOR, type ChartLayer, type Strip } from '../components/AudienceChart';
import { EmotionChip, useEmotionLabel } from '../components/EmotionChip';
import { ExportButtons } from '../components/ExportButtons';
import { MediaPlayer, useVideoClock } from '../components/MediaPlayer';
import { MomentButton } from '../components/MomentButton';
import { BackLink, PageHeading, usePageTitle } from '../components/PageHeading';
import { RecordSelect } from '../components/RecordSelect';
import { Segmented } from '../components/Segmented';
import { Empty, ErrorState, ListState, Loading, PollError } from '../components/States';
import { AddViewer } from '../components/study/AddViewer';
import { InvitesPanel } from '../components/study/InvitesPanel';
import { ViewersTable } from '../components/study/ViewersTable';
import { useI18n } from '../i18n';
import { audienceRows, groupSeries, hasReactionSeries, type SeriesGroup } from '../lib/audience';
import { emotionColor } from '../lib/emotions';
import { formatDate, formatDuration, formatNumber, formatPercent, formatTime } from '../lib/format';
import { useDeleteAndLeave } from '../lib/useDeleteAndLeave';
import { useLoad } from '../lib/useLoad';
import { usePageVisible } from '../lib/usePageVisible';
import { usePoll } from '../lib/usePoll';

const ANALYSING = new Set(['queued', 'processing']);
/**
 * How often the viewers are refreshed while the page is shown: often while one is analysed, gently
 * otherwise (an invited viewer may join at any time, also when nobody has yet or everyone is analysed).
 */
const POLL_ANALYSING_MS = 2000;
const POLL_IDLE_MS = 10_000;

/** The top moments of the audience: each seeks the content there. */
function Moments({ moments, onSeek }: { moments: AudienceMoment[]; onSeek: (t: number) => void }) {
  const { t, locale } = useI18n();
  const name = useEmotionLabel();
  if (!moments.length) return <p className="muted">{t('study.noMoments')}</p>;
  return (
    <ol className="moments audience-moments">
      {moments.map((m) => (
        <li key={`${m.series}-${m.kind}-${m.t}`}>
          <MomentButton
            t={m.t}
            color={emotionColor(m.series)}
            onSeek={onSeek}
            label={t('study.momentSeek', {
              time: formatTime(m.t, locale),
              label: name(m.series),
              kind: t(m.kind === 'peak' ? 'study.peak' : 'study.dip'),
              value: formatPercent(m.value, locale),
              n: m.n,
            })}
          >
            <span className="moment-what">
              <EmotionChip label={m.series} /> <span className="muted small">{t(m.kind === 'peak' ? 'study.peak' : 'study.dip')}</span>
            </span>
            <span className="moment-score">
              {formatPercent(m.value, locale)} <span className="muted small">{t('study.nValue', { n: formatNumber(m.n, locale) })}</span>
            </span>
          </MomentButton>
        </li>
      ))}
    </ol>
  );
}

/** The content video beside the audience curve, with the moments, viewers, invites and added recordings. */
function StudyView({ study, reloadStudy }: { study: Study; reloadStudy: () => void }) {
  const { t } = useI18n();
  const client = useClient();
  const name = useEmotionLabel();
  const clock = useVideoClock();
  const [curve, setCurve] = useState<AudienceCurve | null>(null);
  const [curveError, setCurveError] = useState<unknown>(null);
  const [group, setGroup] = useState<SeriesGroup>('expressions');
  const [hidden, setHidden] = useState<Set<string>>(() => new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const [own, setOwn] = useState<ViewerCurve | null>(null);
  const [ownError, setOwnError] = useState<unknown>(null);
  const [curveAttempt, setCurveAttempt] = useState(0);

  const loadContent = useCallback(() => client.studyContent(study.id), [client, study.id]);

  const listed = useLoad(useCallback(() => client.listViewers(study.id).then((r) => r.items), [client, study.id]));
  const { value: viewers, setValue: setViewers } = listed;

  // Refresh the viewers while the page is shown (and at once when it is shown again); the curve follows
  // their statuses.
  const visible = usePageVisible();
  const analysing = viewers?.some((v) => ANALYSING.has(v.status)) ?? false;
  const interval = analysing ? POLL_ANALYSING_MS : POLL_IDLE_MS;
  const { error: pollError } = usePoll(
    visible,
    `${study.id}:${interval}`,
    () => client.listViewers(study.id),
    (r) => setViewers(r.items),
    interval,
  );
  const wasVisible = useRef(visible);
  useEffect(() => {
    if (visible && !wasVisible.current) client.listViewers(study.id).then((r) => setViewers(r.items), () => undefined);
    wasVisible.current = visible;
  }, [client, study.id, visible]);

  // Any change of a viewer's status or offset (an analysis ended, one was removed) makes a new curve.
  const fingerprint = viewers?.map((v) => `${v.id}:${v.status}:${v.offset}`).join('|') ?? null;
  const firstFingerprint = useRef<string | null>(null);
  useEffect(() => {
    if (fingerprint == null) return;
    let live = true;
    setCurveError(null);
    client.audience(study.id).then(
      (c) => live && setCurve(c),
      (e) => live && setCurveError(e),
    );
    // The study's counts (done/total) change with the viewers: refresh them too, after the first load.
    if (firstFingerprint.current != null && firstFingerprint.current !== fingerprint) reloadStudy();
    firstFingerprint.current = fingerprint;
    return () => {
      live = false;
    };
  }, [client, study.id, fingerprint, reloadStudy, curveAttempt]);

  // Drill-down: the selected viewer's own curve over the audience.
  useEffect(() => {
    setOwn(null);
    setOwnError(null);
    if (!selected) return;
    let live = true;
    client.viewerCurve(study.id, selected).then(
      (c) => live && setOwn(c),
      (e) => live && setOwnError(e),
    );
    return () => {
      live = false;
    };
  }, [client, study.id, selected]);

  const reactions = curve ? hasReactionSeries(curve) : false;
  const shownGroup: SeriesGroup = reactions ? group : 'expressions';
  const groupAll = useMemo(() => (curve ? groupSeries(curve, shownGroup) : []), [curve, shownGroup]);
  const series = useMemo(() => groupAll.filter((s) => !hidden.has(s)), [groupAll, hidden]);
  const rows = useMemo(() => (curve ? audienceRows(curve, series, own) : []), [curve, series, own]);
  const layers: ChartLayer[] = useMemo(() => series.map((s) => ({ key: s, label: name(s), color: emotionColor(s) })), [series, name]);
  const anyone = curve ? curve.n.some((n) => n > 0) : false;
  const strips: Strip[] = useMemo(
    () => [{ kind: 'count', label: t('study.nStrip'), keys: [{ key: 'n', label: 'n', color: N_COLOR }] }],
    [t],
  );
  const doneViewers = viewers?.filter((v) => v.status === 'done') ?? [];
  const selectedViewer = viewers?.find((v) => v.id === selected) ?? null;
  const moments = useMemo(() => curve?.moments.filter((m) => groupAll.includes(m.series)) ?? [], [curve, groupAll]);

  function toggle(s: string) {
    setHidden((prev) => {
      const next = new Set(prev);
      if (next.has(s)) next.delete(s);
      else next.add(s);
      return next;
    });
  }

  function changed() {
    listed.reload();
    reloadStudy();
  }

  return (
    <>
      <div className="results-grid">
        <section className="panel video-panel" aria-label={t('study.content')}>
          <MediaPlayer load={loadContent} name={study.content.filename} clock={clock} testId="content-video" />
          <p className="muted small">
            {t('study.contentMeta', { name: study.content.filename, duration: formatDuration(study.content.duration) })}
          </p>
        </section>
        <section className="panel chart-panel" aria-labelledby="audience-title">
          <div className="panel-head">
            <h2 id="audience-title">{t('study.audience')}</h2>
            {reactions && (
              <Segmented
                label={t('results.viewLabel')}
                options={[
                  { value: 'expressions', label: t('study.groupExpressions') },
                  { value: 'reactions', label: t('study.groupReactions') },
                ]}
                value={shownGroup}
                onChange={setGroup}
              />
            )}
          </div>
          {curveError != null ? (
            <ErrorState error={curveError} onRetry={() => setCurveAttempt((n) => n + 1)} />
          ) : !curve ? (
            <Loading />
          ) : !anyone ? (
            <Empty>{t('study.noAudience')}</Empty>
          ) : (
            <>
              <div className="timeline-controls">
                <div className="series-toggles" role="group" aria-label={t('study.seriesShown')}>
                  {groupAll.map((s) => (
                    <button
                      key={s}
                      type="button"
                      className="series-toggle"
                      aria-pressed={!hidden.has(s)}
                      style={{ ['--chip' as string]: emotionColor(s) }}
                      onClick={() => toggle(s)}
                    >
                      <span className="chip-dot" aria-hidden="true" />
                      {name(s)}
                    </button>
                  ))}
                </div>
                {doneViewers.length > 0 && (
                  <label className="inline-field">
                    <span>{t('study.drill')}</span>
                    <RecordSelect
                      value={selected ?? ''}
                      onChange={(v) => setSelected(v || null)}
                      none={t('study.drillNone')}
                      items={doneViewers.map((v) => ({ id: v.id, name: v.label }))}
                    />
                  </label>
                )}
              </div>
              <p className="muted small" data-testid="viewers-included">
                {t('study.included', { n: curve.viewers_included ?? Math.max(0, ...curve.n) })}
              </p>
              <AudienceChart
                rows={rows}
                layers={layers}
                duration={curve.duration || study.content.duration}
                currentTime={clock.currentTime}
                onSeek={clock.seek}
                strips={strips}
                label={t('study.audience')}
                viewerLabel={own ? own.label || selectedViewer?.label || null : null}
              />
              {ownError != null && <ErrorState error={ownError} />}
            </>
          )}
        </section>
      </div>
      <div className="results-grid results-grid-lower">
        <section className="panel" aria-labelledby="moments-title">
          <h2 id="moments-title">{t('study.moments')}</h2>
          {curve && <Moments moments={moments} onSeek={clock.seek} />}
          <ExportButtons json={curve} jsonName="audience.json" csv={() => client.audienceCsv(study.id, curve?.step)} csvName="audience.csv" />
        </section>
        <section className="panel" aria-labelledby="viewers-title">
          <h2 id="viewers-title">{t('study.viewers')}</h2>
          <ListState items={viewers} error={listed.error} onRetry={listed.reload} empty={t('study.noViewers')}>
            {(items) => <ViewersTable studyId={study.id} viewers={items} selected={selected} onSelect={setSelected} onChanged={changed} />}
          </ListState>
          {pollError != null && <PollError error={pollError} />}
        </section>
      </div>
      <div className="results-grid results-grid-even">
        <InvitesPanel studyId={study.id} />
        <AddViewer studyId={study.id} onAdded={changed} />
      </div>
    </>
  );
}

/** /studies/:id: one study. */
export function StudyPage() {
  const { id = '' } = useParams();
  const client = useClient();
  const { t, locale } = useI18n();
  const loaded = useLoad(useCallback(() => client.getStudy(id), [client, id]));
  const { value: study, setValue: setStudy } = loaded;
  const { remove, deleting, error: deleteError } = useDeleteAndLeave('/studies');
  usePageTitle(study?.title ?? t('studies.title'));

  // A refresh keeps the page as it is (the counts change); only the first load shows "loading".
  const reloadStudy = useCallback(() => {
    client.getStudy(id).then(setStudy, () => undefined);
  }, [client, id, setStudy]);

  return (
    <div className="stack">
      <div className="page-head">
        <BackLink to="/studies">{t('studies.back')}</BackLink>
        <PageHeading>{study ? study.title : t('studies.title')}</PageHeading>
        {study && (
          <div className="page-head-row">
            <p className="muted" data-testid="study-meta">
              {formatDuration(study.content.duration)} · {t('studies.viewersDone', { done: study.viewers.done, total: study.viewers.total })} ·{' '}
              {formatDate(study.created_at, locale)}
            </p>
            <div className="actions page-actions">
              <Link className="btn btn-secondary" to={`/studies/compare?a=${encodeURIComponent(study.id)}`}>
                {t('compare.open')}
              </Link>
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => remove(t('study.deleteConfirm', { title: study.title }), () => client.deleteStudy(study.id))}
                disabled={deleting}
              >
                {t('study.delete')}
              </button>
            </div>
          </div>
        )}
        {deleteError != null && <ErrorState error={deleteError} />}
      </div>
      {loaded.error != null ? (
        <ErrorState error={loaded.error} onRetry={loaded.reload} />
      ) : !study ? (
        <Loading />
      ) : (
        <StudyView study={study} reloadStudy={reloadStudy} />
      )}
    </div>
  );
}
