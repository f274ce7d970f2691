import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import { ApiError, uploadWithProgress } from '../api/client';
import { InviteClient } from '../api/invite';
import type { InviteInfo, InviteViewerStatus, PresignedPost } from '../api/types';
import { useClient } from '../auth';
import { BrandMark, LanguageSelect } from '../components/Layout';
import { usePageTitle } from '../components/PageHeading';
import { ErrorNotice, ErrorState, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { UploadProgressBar } from '../components/UploadProgress';
import { AnalysisProgress } from '../components/VideoProgress';
import { errorText, useI18n, type MessageKey } from '../i18n';
import { formatDuration } from '../lib/format';
import { loadInviteSession, saveInviteSession, type InviteSession } from '../lib/inviteSession';
import {
  CAMERA_CONSTRAINTS,
  browserMedia,
  cameraProblem,
  pickRecordingType,
  stopStream,
  uploadType,
  type CameraProblem,
  type MediaDeps,
} from '../lib/recording';
import { useLeaveWarning } from '../lib/useLeaveWarning';
import { usePoll } from '../lib/usePoll';
import type { Uploader } from '../lib/useUpload';

type Phase =
  | 'loading'
  | 'closed' // the link cannot be used (invalid, expired, revoked, full, or the API is unreachable)
  | 'consent'
  | 'declined'
  | 'joining'
  | 'resume' // agreed earlier in this tab, nothing recorded yet
  | 'camera'
  | 'cameraProblem'
  | 'ready'
  | 'recording'
  | 'uploading'
  | 'uploadFailed'
  | 'thanks'
  | 'withdrawn';

const RECORDING_NAME = 'recording.webm';

/** The heading of a closed link: why it cannot be used, from the API's answer. */
function closedTitle(error: unknown): MessageKey {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'watch.closed.invalid';
    if (error.code === 'invite_revoked') return 'watch.closed.revoked';
    if (error.status === 410) return 'watch.closed.expired';
    if (error.status === 409) return 'watch.closed.full';
  }
  return 'watch.closed.error';
}

/** The viewer page's own frame: the brand and the language, no app navigation. */
function WatchFrame({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="app watch-app">
      <header className="topbar">
        <span className="brand">
          <BrandMark />
        </span>
        <div className="topbar-end">
          <LanguageSelect />
        </div>
      </header>
      <main id="main" className="content watch-content" tabIndex={-1} aria-label={t('watch.title')}>
        {children}
      </main>
    </div>
  );
}

interface Props {
  /** The camera and recorder (the browser's unless given: tests pass fakes); null: none available. */
  media?: MediaDeps | null;
  uploader?: Uploader;
}

/**
 * /watch/:token, the public page of an invite link, no sign-in. The viewer reads the study's viewer
 * statement in their language and answers Yes or No. No: nothing is recorded and no camera is asked.
 * Yes: the consent is recorded first (POST /invite/viewers), then the camera is asked for; the content
 * plays while the camera records, the recording stops when the content ends (or on Stop), and goes to
 * storage with a progress bar (retried on failure). The thank-you page shows the analysis status and lets
 * the viewer withdraw, also after a reload (sessionStorage). The camera is turned off whenever the page
 * is left or the recording ends.
 */
export function WatchPage({ media, uploader }: Props) {
  const { token = '' } = useParams();
  const { t, locale } = useI18n();
  const client = useClient();
  const invite = useMemo(() => InviteClient.of(client, token), [client, token]);
  const deps = useMemo(() => (media === undefined ? browserMedia() : media), [media]);
  const [phase, setPhase] = useState<Phase>('loading');
  const [info, setInfo] = useState<InviteInfo | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [session, setSession] = useState<InviteSession | null>(() => loadInviteSession(token));
  const [problem, setProblem] = useState<CameraProblem>('unavailable');
  const [contentUrl, setContentUrl] = useState<string | null>(null);
  const [contentError, setContentError] = useState<unknown>(null);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [status, setStatus] = useState<InviteViewerStatus | null>(null);
  const [withdrawing, setWithdrawing] = useState(false);
  const [withdrawError, setWithdrawError] = useState<unknown>(null);
  const streamRef = useRef<MediaStream | null>(null);
  const recorderRef = useRef<MediaRecorder | null>(null);
  const chunksRef = useRef<Blob[]>([]);
  const blobRef = useRef<Blob | null>(null);
  const postRef = useRef<{ upload: PresignedPost; until: number } | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  const previewRef = useRef<HTMLVideoElement>(null);
  const contentRef = useRef<HTMLVideoElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const firstPhase = useRef(true);
  usePageTitle(info?.study.title ?? t('watch.title'));
  useLeaveWarning(phase === 'recording' || phase === 'uploading');

  const remember = useCallback(
    (s: InviteSession | null) => {
      setSession(s);
      saveInviteSession(token, s);
    },
    [token],
  );

  const stopCamera = useCallback(() => {
    stopStream(streamRef.current);
    streamRef.current = null;
    if (previewRef.current) previewRef.current.srcObject = null;
  }, []);

  /** Stops a recording under way without sending it, and turns the camera off. */
  const dropRecording = useCallback(() => {
    const rec = recorderRef.current;
    recorderRef.current = null;
    if (rec) {
      rec.onstop = null;
      if (rec.state !== 'inactive') rec.stop();
    }
    stopCamera();
  }, [stopCamera]);

  // Leaving the page (another route, closing the tab) turns the camera off and drops a recording under way.
  useEffect(() => {
    const off = () => {
      dropRecording();
      abortRef.current?.abort();
    };
    window.addEventListener('pagehide', off);
    return () => {
      window.removeEventListener('pagehide', off);
      off();
    };
  }, [dropRecording]);

  // Each new step takes the focus on its heading (not on the first load), for keyboard and screen readers.
  useEffect(() => {
    if (firstPhase.current) {
      firstPhase.current = false;
      return;
    }
    headingRef.current?.focus();
  }, [phase]);

  const load = useCallback(() => {
    setError(null);
    const stored = loadInviteSession(token);
    // Sent already (or asked for its one upload): the thank-you page, which works after the link ended.
    if (stored && stored.stage !== 'joined') {
      setPhase('thanks');
      return;
    }
    setPhase('loading');
    invite.info().then(
      (i) => {
        setInfo(i);
        setPhase(stored ? 'resume' : 'consent');
      },
      (e) => {
        setError(e);
        setPhase('closed');
      },
    );
  }, [invite, token]);
  useEffect(load, [load]);

  const loadContent = useCallback(() => {
    setContentError(null);
    invite.content().then((m) => setContentUrl(m.url), setContentError);
  }, [invite]);

  const askCamera = useCallback(async () => {
    if (!deps) {
      setProblem('unavailable');
      setPhase('cameraProblem');
      return;
    }
    setPhase('camera');
    try {
      const stream = await deps.getUserMedia(CAMERA_CONSTRAINTS);
      streamRef.current = stream;
      setPhase('ready');
      if (!contentUrl) loadContent();
    } catch (e) {
      setProblem(cameraProblem(e));
      setPhase('cameraProblem');
    }
  }, [deps, contentUrl, loadContent]);

  // The preview shows the camera whenever it is on.
  useEffect(() => {
    const el = previewRef.current;
    if (el && streamRef.current && el.srcObject !== streamRef.current) {
      el.srcObject = streamRef.current;
      el.play?.()?.catch?.(() => undefined);
    }
  }, [phase]);

  async function agree() {
    if (!info) return;
    setError(null);
    setPhase('joining');
    try {
      // The consent is recorded before the camera is even asked for.
      const joined = await invite.join({ given: true, text_version: info.consent.version, language: locale });
      remember({ viewerId: joined.viewer.id, withdrawToken: joined.withdraw_token, label: joined.viewer.label, stage: 'joined' });
    } catch (e) {
      setError(e);
      setPhase(e instanceof ApiError && (e.status === 409 || e.status === 410 || e.status === 401) ? 'closed' : 'consent');
      return;
    }
    await askCamera();
  }

  const send = useCallback(async () => {
    const blob = blobRef.current;
    const s = loadInviteSession(token) ?? session;
    if (!blob || !s) return;
    setError(null);
    setPhase('uploading');
    setProgress({ loaded: 0, total: blob.size });
    const abort = new AbortController();
    abortRef.current = abort;
    try {
      if (blob.size === 0) throw new ApiError('recording_empty', 'nothing was recorded');
      let post = postRef.current;
      if (!post || Date.now() > post.until) {
        const issued = await invite.upload(s.viewerId, s.withdrawToken, { filename: RECORDING_NAME, content_type: uploadType(blob.type), size: blob.size });
        // The one upload of this viewer: kept for retries while it is valid (a few seconds of margin).
        post = { upload: issued.upload, until: Date.now() + Math.max(0, issued.expires_in - 10) * 1000 };
        postRef.current = post;
        remember({ ...s, stage: 'issued' });
      }
      await (uploader ?? uploadWithProgress)(post.upload, blob, (loaded, total) => setProgress({ loaded, total }), abort.signal);
      blobRef.current = null;
      remember({ ...s, stage: 'uploaded' });
      setPhase('thanks');
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'upload_expired' || e.code === 'upload_denied')) postRef.current = null;
      setError(e);
      setPhase('uploadFailed');
    } finally {
      setProgress(null);
      abortRef.current = null;
    }
  }, [invite, remember, session, token, uploader]);

  function start() {
    const stream = streamRef.current;
    const content = contentRef.current;
    if (!deps || !stream || !content) return;
    const Recorder = deps.MediaRecorder;
    const type = pickRecordingType((x) => (typeof Recorder.isTypeSupported === 'function' ? Recorder.isTypeSupported(x) : x === 'video/webm'));
    let rec: MediaRecorder;
    try {
      rec = new Recorder(stream, type ? { mimeType: type } : undefined);
    } catch (e) {
      setError(e);
      setProblem('unavailable');
      setPhase('cameraProblem');
      return;
    }
    chunksRef.current = [];
    rec.ondataavailable = (e: BlobEvent) => {
      if (e.data && e.data.size > 0) chunksRef.current.push(e.data);
    };
    rec.onstop = () => {
      blobRef.current = new Blob(chunksRef.current, { type: rec.mimeType || type || 'video/webm' });
      chunksRef.current = [];
      recorderRef.current = null;
      stopCamera();
      send();
    };
    recorderRef.current = rec;
    // Recording time 0 is content time 0 (the viewer's offset): the recorder starts with the playback.
    rec.start(1000);
    content.currentTime = 0;
    const playing = content.play?.();
    playing?.catch?.(() => stop());
    setPhase('recording');
  }

  function stop() {
    contentRef.current?.pause?.();
    const rec = recorderRef.current;
    if (rec && rec.state !== 'inactive') rec.stop();
  }

  // A buffering content pauses the recording, so the recording's time stays the content's time.
  function onWaiting() {
    const rec = recorderRef.current;
    if (rec?.state === 'recording') rec.pause();
  }
  function onPlaying() {
    const rec = recorderRef.current;
    if (rec?.state === 'paused') rec.resume();
  }

  function retryUpload() {
    if (blobRef.current && blobRef.current.size > 0) send();
    else askCamera(); // nothing usable was recorded: record again
  }

  async function withdraw() {
    if (!session || !window.confirm(t('watch.withdrawConfirm'))) return;
    setWithdrawing(true);
    setWithdrawError(null);
    try {
      await invite.withdraw(session.viewerId, session.withdrawToken);
    } catch (e) {
      // 404: nothing left under this id (already deleted): the outcome the viewer asked for.
      if (!(e instanceof ApiError && e.status === 404)) {
        setWithdrawError(e);
        setWithdrawing(false);
        return;
      }
    }
    dropRecording();
    blobRef.current = null;
    remember(null);
    setWithdrawing(false);
    setPhase('withdrawn');
  }

  // The thank-you page follows the analysis of the recording until it ends.
  const terminal = status?.status === 'done' || status?.status === 'failed';
  const following = phase === 'thanks' && session != null;
  useEffect(() => {
    if (!following || !session) return;
    let live = true;
    invite.status(session.viewerId, session.withdrawToken).then(
      (s) => live && setStatus(s),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [following, invite, session]);
  const { error: statusError } = usePoll(
    following && !terminal,
    session?.viewerId ?? '',
    () => invite.status(session!.viewerId, session!.withdrawToken),
    setStatus,
    3000,
  );

  const statement = info ? info.consent.statements[locale] ?? info.consent.statements.en : '';
  const withdrawButton = session && (
    <button type="button" className="btn btn-danger" onClick={withdraw} disabled={withdrawing}>
      {t('watch.withdraw')}
    </button>
  );
  const heading = (key: MessageKey, vars?: Record<string, string | number>) => (
    <h1 ref={headingRef} tabIndex={-1}>
      {t(key, vars)}
    </h1>
  );
  /** The step's main button, with "withdraw" beside it once the viewer has joined. */
  const actions = (label: MessageKey, onClick: () => void, disabled = false) => (
    <div className="actions">
      <button type="button" className="btn btn-primary" onClick={onClick} disabled={disabled}>
        {t(label)}
      </button>
      {withdrawButton}
    </div>
  );
  /** Where the viewer can still withdraw, once joined: why, and the button. */
  const withdrawSection = session && (
    <>
      <p className="muted">{t('watch.withdrawLead')}</p>
      {withdrawButton}
    </>
  );

  let body: ReactNode;
  switch (phase) {
    case 'loading':
    case 'joining':
      body = <Loading />;
      break;
    case 'closed':
      body = (
        <>
          {heading(closedTitle(error))}
          <p>{errorText(error, t)}</p>
          {closedTitle(error) === 'watch.closed.error' && (
            <button type="button" className="btn btn-secondary" onClick={load}>
              {t('common.retry')}
            </button>
          )}
          {withdrawSection}
        </>
      );
      break;
    case 'consent':
      body = (
        <>
          <p className="watch-kicker">{t('watch.invited')}</p>
          {heading('watch.studyTitle', { title: info?.study.title ?? '' })}
          <p>{t('watch.lead', { duration: formatDuration(info?.study.duration) })}</p>
          <section className="consent watch-consent" aria-labelledby="watch-consent-title">
            <h2 id="watch-consent-title">{t('watch.consentTitle')}</h2>
            <p className="consent-statement" data-testid="viewer-statement" lang={locale}>
              {statement}
            </p>
            <p className="muted small">{t('consent.version', { version: info?.consent.version ?? '' })}</p>
          </section>
          {error != null && <ErrorState error={error} />}
          <p className="watch-question">{t('watch.question')}</p>
          <div className="actions watch-answers">
            <button type="button" className="btn btn-primary" onClick={agree}>
              {t('watch.yes')}
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => setPhase('declined')}>
              {t('watch.no')}
            </button>
          </div>
          <p className="muted small">{t('watch.noHint')}</p>
        </>
      );
      break;
    case 'declined':
      body = (
        <>
          {heading('watch.declinedTitle')}
          <p>{t('watch.declined')}</p>
          <button type="button" className="btn btn-secondary" onClick={() => setPhase('consent')}>
            {t('watch.changedMind')}
          </button>
        </>
      );
      break;
    case 'resume':
      body = (
        <>
          {heading('watch.studyTitle', { title: info?.study.title ?? '' })}
          <p>{t('watch.resume')}</p>
          {actions('watch.cameraOn', askCamera)}
        </>
      );
      break;
    case 'camera':
      body = (
        <>
          {heading('watch.cameraTitle')}
          <Loading label={t('watch.cameraAsking')} />
        </>
      );
      break;
    case 'cameraProblem':
      body = (
        <>
          {heading(problem === 'refused' ? 'watch.cameraRefusedTitle' : 'watch.cameraUnavailableTitle')}
          <p className="notice notice-error" role="alert">
            {t(problem === 'refused' ? 'watch.cameraRefused' : 'watch.cameraUnavailable')}
          </p>
          {actions('common.retry', askCamera)}
          {session && <p className="muted small">{t('watch.withdrawLead')}</p>}
        </>
      );
      break;
    case 'ready':
    case 'recording':
      body = (
        <>
          {heading(phase === 'ready' ? 'watch.readyTitle' : 'watch.recordingTitle')}
          {phase === 'ready' ? (
            <p>{t('watch.ready')}</p>
          ) : (
            <p className="recording-indicator" role="status">
              <span className="recording-dot" aria-hidden="true" /> {t('watch.recording')}
            </p>
          )}
          <div className={`watch-stage watch-stage-${phase}`}>
            <video
              ref={contentRef}
              className="watch-content-video"
              src={contentUrl ?? undefined}
              playsInline
              preload="auto"
              controls={false}
              hidden={phase !== 'recording'}
              aria-label={t('watch.contentLabel')}
              data-testid="watch-content"
              onEnded={stop}
              onWaiting={onWaiting}
              onPlaying={onPlaying}
            />
            <figure className="watch-preview">
              <video ref={previewRef} muted autoPlay playsInline aria-label={t('watch.previewLabel')} data-testid="camera-preview" />
              <figcaption className="small muted">{t('watch.previewLabel')}</figcaption>
            </figure>
          </div>
          {contentError != null && <ErrorState error={contentError} onRetry={loadContent} />}
          {phase === 'ready' ? (
            actions('watch.start', start, !contentUrl)
          ) : (
            <div className="actions">
              <button type="button" className="btn btn-secondary" onClick={stop}>
                {t('watch.stop')}
              </button>
            </div>
          )}
        </>
      );
      break;
    case 'uploading':
      body = (
        <>
          {heading('watch.uploadingTitle')}
          <UploadProgressBar progress={progress ?? { loaded: 0, total: 0 }} />
          <p className="muted small">{t('watch.keepOpen')}</p>
        </>
      );
      break;
    case 'uploadFailed':
      body = (
        <>
          {heading('watch.uploadFailedTitle')}
          <ErrorNotice error={error} />
          {actions('common.retry', retryUpload)}
        </>
      );
      break;
    case 'thanks':
      body = (
        <>
          {heading('watch.thanksTitle')}
          <p>{t('watch.thanks')}</p>
          {status ? (
            <div className="watch-status" data-testid="watch-status">
              <p>
                {t('watch.statusLabel')} <StatusBadge status={status.status} />
              </p>
              {status.status !== 'failed' && <AnalysisProgress video={status} />}
            </div>
          ) : statusError != null ? (
            <ErrorState error={statusError} />
          ) : null}
          {withdrawSection}
        </>
      );
      break;
    case 'withdrawn':
      body = (
        <>
          {heading('watch.withdrawnTitle')}
          <p>{t('watch.withdrawn')}</p>
        </>
      );
      break;
  }

  return (
    <WatchFrame>
      <section className="panel watch-panel" data-phase={phase}>
        {body}
        {withdrawError != null && <ErrorState error={withdrawError} />}
      </section>
    </WatchFrame>
  );
}
