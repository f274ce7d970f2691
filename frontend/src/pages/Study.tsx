import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import type { AudienceCurve, AudienceMoment, Study, Viewer, ViewerCurve } from '../api/types';
import { useClient } from '../auth';
import { AudienceChart, N_COLOR, type ChartLayer, type Strip } from '../components/AudienceChart';
import { EmotionChip, useEmotionLabel } from '../components/EmotionChip';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { Empty, ErrorState, Loading, PollError } from '../components/States';
import { AddViewer } from '../components/study/AddViewer';
import { InvitesPanel } from '../components/study/InvitesPanel';
import { ViewersTable } from '../components/study/ViewersTable';
import { useI18n } from '../i18n';
import { audienceRows, groupSeries, hasReactionSeries, stepFor, type SeriesGroup } from '../lib/audience';
import { downloadBlob } from '../lib/download';
import { emotionColor } from '../lib/emotions';
import { formatDate, formatDuration, formatNumber, formatPercent, formatTime } from '../lib/format';
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
          <button
            type="button"
            className="moment"
            data-t={m.t}
            style={{ ['--accent' as string]: emotionColor(m.series) }}
            onClick={() => onSeek(m.t)}
            aria-label={t('study.momentSeek', {
              time: formatTime(m.t, locale),
              label: name(m.series),
              kind: t(m.kind === 'peak' ? 'study.peak' : 'study.dip'),
              value: formatPercent(m.value, locale),
              n: m.n,
            })}
          >
            <span className="moment-time">{formatTime(m.t, locale)}</span>
            <span className="moment-what">
              <EmotionChip label={m.series} /> <span className="muted small">{t(m.kind === 'peak' ? 'study.peak' : 'study.dip')}</span>
            </span>
            <span className="moment-score">
              {formatPercent(m.value, locale)} <span className="muted small">{t('study.nValue', { n: formatNumber(m.n, locale) })}</span>
            </span>
          </button>
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
  const videoRef = useRef<HTMLVideoElement>(null);
  const [contentUrl, setContentUrl] = useState<string | null>(null);
  const [contentError, setContentError] = useState<unknown>(null);
  const [currentTime, setCurrentTime] = useState(0);
  const [viewers, setViewers] = useState<Viewer[] | null>(null);
  const [viewersError, setViewersError] = useState<unknown>(null);
  const [curve, setCurve] = useState<AudienceCurve | null>(null);
  const [curveError, setCurveError] = useState<unknown>(null);
  const [group, setGroup] = useState<SeriesGroup>('expressions');
  const [hidden, setHidden] = useState<Set<string>>(() => new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const [own, setOwn] = useState<ViewerCurve | null>(null);
  const [ownError, setOwnError] = useState<unknown>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const [curveAttempt, setCurveAttempt] = useState(0);
  const step = stepFor(study.content.duration);

  const loadContent = useCallback(() => {
    setContentError(null);
    client.studyContent(study.id).then((m) => setContentUrl(m.url), setContentError);
  }, [client, study.id]);
  useEffect(loadContent, [loadContent]);

  const loadViewers = useCallback(() => {
    setViewersError(null);
    client.listViewers(study.id).then((r) => setViewers(r.items), setViewersError);
  }, [client, study.id]);
  useEffect(loadViewers, [loadViewers]);

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
    client.audience(study.id, step).then(
      (c) => live && setCurve(c),
      (e) => live && setCurveError(e),
    );
    // The study's counts (done/total) change with the viewers: refresh them too, after the first load.
    if (firstFingerprint.current != null && firstFingerprint.current !== fingerprint) reloadStudy();
    firstFingerprint.current = fingerprint;
    return () => {
      live = false;
    };
  }, [client, study.id, step, fingerprint, reloadStudy, curveAttempt]);

  // Drill-down: the selected viewer's own curve over the audience.
  useEffect(() => {
    setOwn(null);
    setOwnError(null);
    if (!selected) return;
    let live = true;
    client.viewerCurve(study.id, selected, step).then(
      (c) => live && setOwn(c),
      (e) => live && setOwnError(e),
    );
    return () => {
      live = false;
    };
  }, [client, study.id, selected, step]);

  const seek = useCallback((time: number) => {
    setCurrentTime(time);
    const el = videoRef.current;
    if (el) el.currentTime = time;
  }, []);

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

  async function exportCsv() {
    setExportError(null);
    try {
      downloadBlob(await client.audienceCsv(study.id, step), 'audience.csv');
    } catch (e) {
      setExportError(e);
    }
  }

  function exportJson() {
    if (curve) downloadBlob(new Blob([JSON.stringify(curve, null, 2)], { type: 'application/json' }), 'audience.json');
  }

  function changed() {
    loadViewers();
    reloadStudy();
  }

  return (
    <>
      <div className="results-grid">
        <section className="panel video-panel" aria-label={t('study.content')}>
          {contentError != null ? (
            <ErrorState error={contentError} onRetry={loadContent} />
          ) : contentUrl ? (
            <video
              ref={videoRef}
              src={contentUrl}
              controls
              playsInline
              preload="metadata"
              data-testid="content-video"
              onTimeUpdate={(e) => setCurrentTime(e.currentTarget.currentTime)}
              onSeeked={(e) => setCurrentTime(e.currentTarget.currentTime)}
              onError={() => setContentError(new Error(t('results.mediaError', { reason: study.content.filename })))}
            />
          ) : (
            <Loading />
          )}
          <p className="muted small">
            {t('study.contentMeta', { name: study.content.filename, duration: formatDuration(study.content.duration) })}
          </p>
        </section>
        <section className="panel chart-panel" aria-labelledby="audience-title">
          <div className="panel-head">
            <h2 id="audience-title">{t('study.audience')}</h2>
            {reactions && (
              <div className="segmented" role="group" aria-label={t('results.viewLabel')}>
                {(['expressions', 'reactions'] as const).map((g) => (
                  <button
                    key={g}
                    type="button"
                    className={`btn btn-small${shownGroup === g ? ' btn-primary' : ' btn-secondary'}`}
                    aria-pressed={shownGroup === g}
                    onClick={() => setGroup(g)}
                  >
                    {t(g === 'expressions' ? 'study.groupExpressions' : 'study.groupReactions')}
                  </button>
                ))}
              </div>
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
                    <select value={selected ?? ''} onChange={(e) => setSelected(e.target.value || null)}>
                      <option value="">{t('study.drillNone')}</option>
                      {doneViewers.map((v) => (
                        <option key={v.id} value={v.id}>
                          {v.label}
                        </option>
                      ))}
                    </select>
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
                currentTime={currentTime}
                onSeek={seek}
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
          {curve && <Moments moments={moments} onSeek={seek} />}
          <div className="actions export">
            <button type="button" className="btn btn-secondary" onClick={exportJson} disabled={!curve}>
              {t('results.exportJson')}
            </button>
            <button type="button" className="btn btn-secondary" onClick={exportCsv}>
              {t('results.exportCsv')}
            </button>
          </div>
          {exportError != null && <ErrorState error={exportError} />}
        </section>
        <section className="panel" aria-labelledby="viewers-title">
          <h2 id="viewers-title">{t('study.viewers')}</h2>
          {viewersError != null ? (
            <ErrorState error={viewersError} onRetry={loadViewers} />
          ) : !viewers ? (
            <Loading />
          ) : viewers.length === 0 ? (
            <Empty>{t('study.noViewers')}</Empty>
          ) : (
            <ViewersTable studyId={study.id} viewers={viewers} selected={selected} onSelect={setSelected} onChanged={changed} />
          )}
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
  const navigate = useNavigate();
  const { t, locale } = useI18n();
  const [study, setStudy] = useState<Study | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  usePageTitle(study?.title ?? t('studies.title'));

  const load = useCallback(() => {
    setError(null);
    client.getStudy(id).then(setStudy, setError);
  }, [client, id]);
  useEffect(load, [load]);
  // A refresh keeps the page as it is (the counts change); only the first load shows "loading".
  const reloadStudy = useCallback(() => {
    client.getStudy(id).then(setStudy, () => undefined);
  }, [client, id]);

  async function remove() {
    if (!study || !window.confirm(t('study.deleteConfirm', { title: study.title }))) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await client.deleteStudy(study.id);
      navigate('/studies', { replace: true });
    } catch (e) {
      setDeleteError(e);
      setDeleting(false);
    }
  }

  return (
    <div className="stack">
      <div className="page-head">
        <Link to="/studies" className="back-link">
          ← {t('studies.back')}
        </Link>
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
              <button type="button" className="btn btn-danger" onClick={remove} disabled={deleting}>
                {t('study.delete')}
              </button>
            </div>
          </div>
        )}
        {deleteError != null && <ErrorState error={deleteError} />}
      </div>
      {error != null ? <ErrorState error={error} onRetry={load} /> : !study ? <Loading /> : <StudyView study={study} reloadStudy={reloadStudy} />}
    </div>
  );
}
