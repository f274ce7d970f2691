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

/** Landmark signals of one face sample (Analysis format 2; docs/analysis.md). */
export interface FaceSignals {
  yaw: number;
  pitch: number;
  roll: number;
  eyes: [number, number];
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
