import type failures from './failures.json';

export type Emotion = 'angry' | 'disgust' | 'fear' | 'happy' | 'sad' | 'surprise' | 'neutral';
export type Distribution = Partial<Record<string, number>>;
/** Why an analysis failed: the server's registry (chalicelib/failures.py), copied to failures.json. */
export type FailureCode = keyof typeof failures.codes;

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  expires_in: number;
}

export interface User {
  id: string;
  email: string;
  name: string;
}

export type VideoStatus = 'pending_upload' | 'queued' | 'processing' | 'done' | 'failed';

export interface VideoSummary {
  dominant: string | null;
  distribution: Distribution;
  face_presence: number;
  valence: number;
  expressiveness: number;
  /** Share of the time the faces looked toward the camera (Analysis format 2). */
  attention?: number;
  /** Share of the time the faces looked away from the camera: 1 - attention (Analysis format 2). */
  looking_away?: number;
  /**
   * Blinks per minute of tracked face time (Analysis format 2, with landmark signals): a lower bound at the
   * analysis sample rate (`model.sample_fps`), comparable only between videos analysed at the same rate.
   */
  blinks_per_minute?: number;
}

export interface Video {
  id: string;
  title: string;
  filename: string;
  content_type: string;
  size: number;
  backend: 'onnx' | 'rekognition';
  status: VideoStatus;
  progress: { done: number; total: number };
  duration: number | null;
  created_at: string;
  updated_at: string;
  error?: string;
  /** Why it failed, as a stable code to translate (only when `failed`). */
  error_code?: FailureCode;
  /** Whether analysing the same upload again can succeed: offer "try again" only then. */
  retryable: boolean;
  /** Queued or processing with no progress for a while (the server restarts it; the user may retry). */
  stalled?: boolean;
  summary?: VideoSummary;
  /** What the uploader accepted for the people filmed; null for videos uploaded before consent existed. */
  consent?: ConsentRecord | null;
  /** When the source video goes (set when the analysis ends; null while kept) and when it went. */
  retention?: { delete_source_after: string | null; source_deleted_at: string | null };
}

/** The languages the consent statement is shown in (the UI's). */
export type ConsentLanguage = 'en' | 'es';

/** GET /consent: the current statement and its version, in every language. */
export interface ConsentStatement {
  version: string;
  statements: Record<ConsentLanguage, string>;
  /** The statement a study's viewer accepts for their own recording (issue 12). */
  viewer?: { version: string; statements: Record<ConsentLanguage, string> };
}

/** What POST /videos carries: the statement the uploader saw and accepted. */
export interface ConsentGiven {
  given: true;
  text_version: string;
  language: ConsentLanguage;
}

export interface ConsentRecord extends ConsentGiven {
  recorded_at: string;
}

/** GET/PUT /account/settings: days the source video is kept after its analysis (0: none; null: kept). */
export interface AccountSettings {
  retention_days: number | null;
}

/** GET /account/export: a presigned link to the zip of everything the account holds. */
export interface AccountExport {
  url: string;
  expires_at: string;
  size: number;
}

export interface VideoPage {
  items: Video[];
  next: string | null;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  method?: 'POST';
}

export interface CreatedVideo {
  video: Video;
  upload: PresignedPost;
  expires_in: number;
}

export interface MediaUrl {
  url: string;
  expires_in: number;
  content_type: string;
}

export interface TimelinePoint {
  t: number;
  faces: number;
  emotions?: Record<string, number>;
  extra?: Record<string, number>;
  /** Share of the faces present that look toward the camera (Analysis format 2). */
  attention?: number;
  reactions?: Reactions;
}

/** Heuristics read from the face, each 0..1 (Analysis format 2; docs/analysis.md). */
export interface Reactions {
  interest: number;
  boredom: number;
  confusion: number;
  smile: number;
}

/** Landmark signals of one face sample (Analysis format 2, `lids` format 3; docs/analysis.md). */
export interface FaceSignals {
  yaw: number;
  pitch: number;
  roll: number;
  eyes: [number, number];
  /** Format 3: the iris model's lid gap over eye width, right and left eye (what `eyes` is read from). */
  lids?: [number, number];
  mouth: number;
  brow: number;
  smile: number;
}

export interface FaceTrack {
  id: number;
  first_t: number;
  last_t: number;
  /** This face's blinks per minute of its time with landmark signals (a lower bound; Analysis format 2). */
  blinks_per_minute?: number;
  timeline: {
    t: number;
    emotions: Record<string, number>;
    box: number[];
    extra?: Record<string, number>;
    signals?: FaceSignals;
    attention?: boolean;
    reactions?: Reactions;
  }[];
}

export interface KeyMoment {
  t: number;
  label: string;
  score: number;
}

export interface Analysis {
  format: number;
  video: { duration: number; fps: number; width: number; height: number; rotation: number; codec: string };
  labels: string[];
  timeline: TimelinePoint[];
  faces: FaceTrack[];
  summary: VideoSummary & { key_moments: KeyMoment[] };
  model: {
    backend: string;
    version: string;
    detector: string;
    /** What the expression models saw (see docs/analysis.md); absent in documents made before it. */
    crop?: 'aligned' | 'box';
    sample_fps: number;
    /** The per-track filter over time (see docs/analysis.md); absent in documents made before it. */
    smoothing?: { filter: string; pooling: 'arithmetic' | 'geometric'; tau: number };
  };
  segments: number;
}

export interface Stats {
  videos: number;
  total_duration: number;
  distribution: Distribution;
  averages: { valence: number; expressiveness: number; face_presence: number };
  dominant_per_video: {
    id: string;
    title: string;
    created_at: string | null;
    duration: number | null;
    dominant: string | null;
    valence: number | null;
  }[];
  weekly: { week: string; videos: number; duration: number; valence: number; expressiveness: number }[];
  cached: boolean;
}

// --- audience studies (issue 12; /work/notes/studies-contract.md, docs/openapi.yaml) -----------------------

/** A study: one content video shown to many viewers, whose recordings make its audience curve. */
export interface Study {
  id: string;
  title: string;
  content: { filename: string; content_type: string; size: number; duration: number; uploaded: boolean };
  viewers: { total: number; done: number; processing: number; failed: number };
  created_at: string;
  updated_at: string;
}

export interface StudyPage {
  items: Study[];
  next: string | null;
}

/** A presigned PUT, the alternative to the POST form (the app sends the POST: it reports progress). */
export interface PresignedPut {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
}

export interface CreatedStudy {
  study: Study;
  upload: PresignedPost;
  upload_put: PresignedPut;
  expires_in: number;
}

export type ViewerSource = 'creator' | 'invite';

/** One viewer's recording: a video record of the study (same pipeline, progress, retry, erasure). */
export interface Viewer {
  id: string;
  label: string;
  /** Content time (s) at the recording's start: a recording moment r is content time r + offset. */
  offset: number;
  source: ViewerSource;
  status: VideoStatus;
  progress: { done: number; total: number };
  consent: ConsentRecord | null;
  duration: number | null;
  error?: string;
  error_code?: FailureCode;
  retryable: boolean;
  stalled?: boolean;
  created_at: string;
  updated_at: string;
}

export interface CreatedViewer {
  viewer: Viewer;
  upload: PresignedPost;
  upload_put: PresignedPut;
  expires_in: number;
}

export type Series = (number | null)[];

export interface AudienceMoment {
  series: string;
  kind: 'peak' | 'dip';
  t: number;
  value: number;
  low: number | null;
  high: number | null;
  n: number;
}

/** GET /studies/{id}/audience: the mean of the viewers per series on the content's time grid, with a 95% band. */
export interface AudienceCurve {
  study_id: string;
  duration: number;
  step: number;
  t: number[];
  /** Viewers with a face at each grid time. */
  n: number[];
  /** Only for a series whose n differs from `n`. */
  n_by_series?: Record<string, number[]>;
  series: string[];
  mean: Record<string, Series>;
  low: Record<string, Series>;
  high: Record<string, Series>;
  moments: AudienceMoment[];
  /** Every viewer of the study; `included` only when their recording is analysed (`done`). */
  viewers: { id: string; label: string; offset: number; status: VideoStatus; included: boolean }[];
  viewers_included: number;
  /** When the curve was computed (it is cached until any viewer changes: never stale). */
  computed_at: string;
}

/** GET /studies/{id}/viewers/{viewer}/curve: one viewer's values on the content grid (null: not seen). */
export interface ViewerCurve {
  study_id: string;
  viewer_id: string;
  label: string;
  offset: number;
  duration: number;
  step: number;
  t: number[];
  series: string[];
  values: Record<string, Series>;
}

export interface CreatedInvite {
  id: string;
  url: string;
  token: string;
  expires_at: string;
  max_viewers: number;
  used: number;
}

export interface Invite {
  id: string;
  created_at: string;
  expires_at: string;
  max_viewers: number;
  used: number;
  revoked: boolean;
  expired: boolean;
}

/** GET /compare: two studies' curves on one grid and their difference (a - b) per series. */
export interface Comparison {
  t: number[];
  a: AudienceCurve;
  b: AudienceCurve;
  difference: Record<string, Series>;
}

/** GET /invite: what a viewer holding an invite sees before agreeing. */
export interface InviteInfo {
  study: { title: string; duration: number; content_type: string };
  consent: { version: string; statements: Record<ConsentLanguage, string> };
  expires_at: string;
}

export interface InviteViewer {
  viewer: { id: string; label: string };
  withdraw_token: string;
}

export interface InviteUpload {
  upload: PresignedPost;
  upload_put: PresignedPut;
  expires_in: number;
}

export interface InviteViewerStatus {
  id: string;
  label: string;
  status: VideoStatus;
  progress: { done: number; total: number };
}
