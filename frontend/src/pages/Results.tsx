import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';
import type { Analysis, Video } from '../api/types';
import { useClient } from '../auth';
import { AttentionCard } from '../components/AttentionCard';
import { DistributionChart } from '../components/DistributionChart';
import { EmotionChip, useEmotionLabel } from '../components/EmotionChip';
import { EmotionTimeline, type TimelineView } from '../components/EmotionTimeline';
import { ExportButtons } from '../components/ExportButtons';
import { MediaPlayer, useVideoClock } from '../components/MediaPlayer';
import { MomentButton } from '../components/MomentButton';
import { BackLink, PageHeading, usePageTitle } from '../components/PageHeading';
import { Segmented } from '../components/Segmented';
import { ErrorState, Loading, PollError } from '../components/States';
import { AnalysisProgress, canRetry, failureReason } from '../components/VideoProgress';
import { StatusBadge } from '../components/StatusBadge';
import { useI18n } from '../i18n';
import { emotionColor } from '../lib/emotions';
import { formatDate, formatDuration, formatNumber, formatPercent, formatSigned, formatTime } from '../lib/format';
import { modelSentence } from '../lib/modelInfo';
import {
  REACTION_SERIES,
  analysisToReactionRows,
  analysisToRows,
  distributionData,
  hasReactions,
  type FaceChoice,
} from '../lib/shape';
import { useDeleteAndLeave } from '../lib/useDeleteAndLeave';
import { usePollVideo } from '../lib/usePollVideo';
import { useRetryVideo } from '../lib/useRetryVideo';

const SummaryCards = memo(function SummaryCards({ analysis }: { analysis: Analysis }) {
  const { t, locale } = useI18n();
  const s = analysis.summary;
  const dist = useMemo(() => distributionData(s.distribution as Record<string, number>), [s.distribution]);
  const valencePct = ((Math.max(-1, Math.min(1, s.valence)) + 1) / 2) * 100;
  // With no face at all, valence and expressiveness are not 0: they are unknown.
  const noFace = !(s.face_presence > 0);
  return (
    <section className="panel" aria-labelledby="summary-title">
      <h2 id="summary-title">{t('results.summary')}</h2>
      <div className="cards">
        <div className="card card-dominant" style={{ ['--accent' as string]: emotionColor(s.dominant) }}>
          <p className="card-label">{t('results.dominant')}</p>
          <p className="card-value">
            <EmotionChip label={s.dominant} />
          </p>
          {s.dominant && <p className="card-hint">{formatPercent(s.distribution[s.dominant], locale)}</p>}
        </div>
        <div className="card">
          <p className="card-label">{t('results.valence')}</p>
          <p className="card-value">{noFace ? t('common.none') : formatSigned(s.valence, locale)}</p>
          <div className="meter meter-valence" aria-hidden="true">
            {!noFace && <span style={{ left: `${valencePct}%` }} />}
          </div>
          <p className="card-hint">{t('results.valenceHint')}</p>
        </div>
        <div className="card">
          <p className="card-label">{t('results.expressiveness')}</p>
          <p className="card-value">{noFace ? t('common.none') : formatPercent(s.expressiveness, locale)}</p>
          <div className="meter" aria-hidden="true">
            <i style={{ width: `${noFace ? 0 : s.expressiveness * 100}%` }} />
          </div>
          <p className="card-hint">{t('results.expressivenessHint')}</p>
        </div>
        <div className="card">
          <p className="card-label">{t('results.presence')}</p>
          <p className="card-value">{formatPercent(s.face_presence, locale)}</p>
          <div className="meter" aria-hidden="true">
            <i style={{ width: `${s.face_presence * 100}%` }} />
          </div>
          <p className="card-hint">{t('results.presenceHint')}</p>
        </div>
        <AttentionCard summary={s} sampleFps={analysis.model.sample_fps} />
      </div>
      <h3>{t('results.distribution')}</h3>
      <DistributionChart data={dist} label={t('results.distribution')} />
    </section>
  );
});

/** What analysed the video, in words; the engine's names and settings on demand. */
const ModelNote = memo(function ModelNote({ analysis }: { analysis: Analysis }) {
  const { t, locale } = useI18n();
  const m = analysis.model;
  const smoothing = m.smoothing
    ? `${m.smoothing.filter}, ${m.smoothing.pooling}, τ = ${formatNumber(m.smoothing.tau, locale)} s`
    : t('common.none');
  const facts: [string, string][] = [
    [t('results.tech.backend'), m.backend],
    [t('results.tech.model'), m.version],
    [t('results.tech.detector'), m.detector],
    [t('results.tech.fps'), formatNumber(m.sample_fps, locale)],
    [t('results.tech.smoothing'), smoothing],
    [t('results.tech.segments'), formatNumber(analysis.segments, locale)],
    [t('results.tech.format'), String(analysis.format)],
  ];
  return (
    <div className="model-note">
      <p className="muted small" data-testid="model-sentence">{modelSentence(t, m)}</p>
      <details className="tech-details">
        <summary>{t('results.technical')}</summary>
        <dl>
          {facts.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      </details>
    </div>
  );
});

const CHART_VIEWS: { view: TimelineView; label: 'results.chartLines' | 'results.chartStacked' | 'results.chartRibbon' }[] = [
  { view: 'lines', label: 'results.chartLines' },
  { view: 'stacked', label: 'results.chartStacked' },
  { view: 'ribbon', label: 'results.chartRibbon' },
];

function ResultsView({ video, analysis }: { video: Video; analysis: Analysis }) {
  const { t, locale } = useI18n();
  const client = useClient();
  const name = useEmotionLabel();
  const clock = useVideoClock();
  const [face, setFace] = useState<FaceChoice>('mean');
  const loadMedia = useCallback(() => client.media(video.id), [client, video.id]);

  const [view, setView] = useState<'emotions' | 'reactions'>('emotions');
  const [chartView, setChartView] = useState<TimelineView>('lines');
  const [raw, setRaw] = useState(false);
  const reactions = hasReactions(analysis);
  const showReactions = reactions && view === 'reactions';
  const rows = useMemo(
    () => (showReactions ? analysisToReactionRows(analysis, face) : analysisToRows(analysis, face)),
    [analysis, face, showReactions],
  );
  const labels = useMemo(
    () =>
      showReactions
        ? [...REACTION_SERIES]
        : analysis.labels?.length
          ? analysis.labels
          : Object.keys(analysis.summary.distribution),
    [analysis, showReactions],
  );
  const duration = analysis.video.duration || video.duration || 0;

  return (
    <>
      <div className="results-grid">
        <section className="panel video-panel" aria-label={t('results.video')}>
          <MediaPlayer load={loadMedia} name={video.filename} clock={clock} />
          <ModelNote analysis={analysis} />
        </section>
        <section className="panel chart-panel" aria-labelledby="timeline-title">
          <div className="panel-head">
            <h2 id="timeline-title">{t('results.timeline')}</h2>
            {reactions && (
              <Segmented
                label={t('results.viewLabel')}
                options={[
                  { value: 'emotions', label: t('results.viewEmotions') },
                  { value: 'reactions', label: t('results.viewReactions') },
                ]}
                value={view}
                onChange={setView}
              />
            )}
            <label className="inline-field">
              <span>{t('results.faceSelect')}</span>
              <select
                value={String(face)}
                onChange={(e) => setFace(e.target.value === 'mean' ? 'mean' : Number(e.target.value))}
              >
                <option value="mean">{t('results.meanFaces')}</option>
                {analysis.faces.map((f, i) => (
                  <option key={f.id} value={f.id}>
                    {t('results.faceRange', { n: i + 1, from: formatTime(f.first_t, locale), to: formatTime(f.last_t, locale) })}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="timeline-controls">
            {!showReactions && (
              <Segmented
                label={t('results.chartLabel')}
                options={CHART_VIEWS.map(({ view: v, label }) => ({ value: v, label: t(label) }))}
                value={chartView}
                onChange={setChartView}
              />
            )}
            <label className="check-field">
              <input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} />
              <span>{t('results.rawSamples')}</span>
            </label>
          </div>
          <EmotionTimeline
            rows={rows}
            labels={labels}
            duration={duration}
            currentTime={clock.currentTime}
            onSeek={clock.seek}
            view={showReactions ? 'lines' : chartView}
            raw={raw}
            valence={!showReactions}
          />
        </section>
      </div>
      <div className="results-grid results-grid-lower">
        <section className="panel" aria-labelledby="moments-title">
          <h2 id="moments-title">{t('results.keyMoments')}</h2>
          {analysis.summary.key_moments.length === 0 ? (
            <p className="muted">{t('results.noKeyMoments')}</p>
          ) : (
            <ol className="moments">
              {analysis.summary.key_moments.map((m) => (
                <li key={`${m.t}-${m.label}`}>
                  <MomentButton
                    t={m.t}
                    color={emotionColor(m.label)}
                    onSeek={clock.seek}
                    label={t('results.seekTo', { time: formatTime(m.t, locale), label: name(m.label), score: formatPercent(m.score, locale) })}
                  >
                    <EmotionChip label={m.label} />
                    <span className="moment-score">{formatPercent(m.score, locale)}</span>
                  </MomentButton>
                </li>
              ))}
            </ol>
          )}
          <ExportButtons json={analysis} jsonName={`${video.id}.json`} csv={() => client.resultsCsv(video.id)} csvName={`${video.id}.csv`} />
        </section>
        <SummaryCards analysis={analysis} />
      </div>
    </>
  );
}

export function Results() {
  const { id = '' } = useParams();
  const client = useClient();
  const { t, locale } = useI18n();
  const [initial, setInitial] = useState<Video | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [analysis, setAnalysis] = useState<Analysis | null>(null);
  const { remove, deleting, error: deleteError } = useDeleteAndLeave('/');
  const { video, error: pollError } = usePollVideo(client, initial);
  const { retry, retrying, retryError } = useRetryVideo(client, setInitial);

  const load = useCallback(() => {
    setLoadError(null);
    setInitial(null);
    setAnalysis(null);
    client.getVideo(id).then(setInitial, setLoadError);
  }, [client, id]);
  useEffect(load, [load]);

  const done = video?.status === 'done';
  useEffect(() => {
    if (!done) return;
    let live = true;
    client.results(id).then(
      (a) => live && setAnalysis(a),
      (e) => live && setLoadError(e),
    );
    return () => {
      live = false;
    };
  }, [client, id, done]);

  usePageTitle(video?.title ?? t('results.title'));

  return (
    <div className="stack">
      <div className="page-head">
        <BackLink to="/">{t('common.back')}</BackLink>
        <PageHeading>
          {video ? (
            <>
              {video.title} <StatusBadge status={video.status} />
            </>
          ) : (
            t('results.title')
          )}
        </PageHeading>
        {video && (
          <div className="page-head-row">
            <p className="muted">
              {formatDuration(video.duration)} · {formatDate(video.created_at, locale)}
            </p>
            <button
              type="button"
              className="btn btn-danger"
              onClick={() => remove(t('video.deleteConfirm', { title: video.title }), () => client.deleteVideo(video.id))}
              disabled={deleting}
            >
              {t('video.delete')}
            </button>
          </div>
        )}
        {deleteError != null && <ErrorState error={deleteError} />}
      </div>
      {loadError != null ? (
        <ErrorState error={loadError} onRetry={load} />
      ) : !video ? (
        <Loading />
      ) : video.status === 'failed' ? (
        <section className="panel">
          <p className="notice notice-error" role="alert">
            {t('results.failed', { reason: failureReason(video, t) })}
          </p>
          {canRetry(video) && (
            <button type="button" className="btn btn-primary" onClick={() => retry(video.id)} disabled={retrying}>
              {t('common.retry')}
            </button>
          )}
          {retryError != null && <ErrorState error={retryError} />}
        </section>
      ) : video.status !== 'done' ? (
        <section className="panel">
          <p>{t('results.notReady')}</p>
          <AnalysisProgress video={video} />
          {video.stalled && (
            <>
              <p className="notice">{t('upload.stalled')}</p>
              {canRetry(video) && (
                <button type="button" className="btn btn-primary" onClick={() => retry(video.id)} disabled={retrying}>
                  {t('common.retry')}
                </button>
              )}
              {retryError != null && <ErrorState error={retryError} />}
            </>
          )}
          {pollError != null && <PollError error={pollError} />}
        </section>
      ) : !analysis ? (
        <Loading />
      ) : (
        <ResultsView video={video} analysis={analysis} />
      )}
    </div>
  );
}
