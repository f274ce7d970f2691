import type {
  AccountExport,
  AccountSettings,
  Analysis,
  AudienceCurve,
  Comparison,
  ConsentGiven,
  ConsentStatement,
  CreatedInvite,
  CreatedStudy,
  CreatedVideo,
  CreatedViewer,
  Invite,
  MediaUrl,
  PresignedPost,
  Stats,
  Study,
  StudyPage,
  Tokens,
  User,
  Video,
  VideoPage,
  Viewer,
  ViewerCurve,
} from './types';

/** Every failure the client reports: the API's `{error: {code, message}}`, or one of ours (network, upload_failed). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Seconds to wait before trying again (the `Retry-After` header of a 429), when the server said. */
  readonly retryAfter?: number;
  constructor(code: string, message: string, status = 0, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** Where the refresh token lives between page loads (sessionStorage in the browser, a Map in tests). */
export interface RefreshTokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export function memoryStore(initial: string | null = null): RefreshTokenStore {
  let value = initial;
  return { get: () => value, set: (t) => (value = t) };
}

export function sessionStore(key = 'emotionfy.refresh'): RefreshTokenStore {
  return {
    get: () => {
      try {
        return window.sessionStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set: (t) => {
      try {
        if (t) window.sessionStorage.setItem(key, t);
        else window.sessionStorage.removeItem(key);
      } catch {
        /* storage disabled: the session lasts as long as the page */
      }
    },
  };
}

export interface ClientOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  store?: RefreshTokenStore;
  /** Called when the session ends without the user asking (refresh refused): the app shows sign-in. */
  onSessionEnd?: () => void;
  /** Share of `expires_in` after which the access token is refreshed proactively. */
  refreshAt?: number;
  /** The API's limits from /config.json (see loadConfig), for checks before a request. */
  limits?: Limits;
}

/** Parses a failed response into an ApiError; the API always answers `{"error": {"code", "message"}}`. */
export async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && typeof body === 'object' && body.error && typeof body.error.code === 'string') {
      code = body.error.code;
      message = typeof body.error.message === 'string' ? body.error.message : message;
    }
  } catch {
    /* not JSON: keep the HTTP status */
  }
  const wait = Number(res.headers?.get('Retry-After'));
  return new ApiError(code, message, res.status, Number.isFinite(wait) && wait >= 0 ? wait : undefined);
}

interface RequestOptions {
  body?: unknown;
  auth?: boolean;
  /** Return the Response itself (for CSV) instead of parsed JSON. */
  raw?: boolean;
}

export class ApiClient {
  readonly baseUrl: string;
  /** The fetch behind every request; the invite client (api/invite.ts) shares it, never the tokens. */
  readonly fetchImpl: typeof fetch;
  private readonly store: RefreshTokenStore;
  private readonly refreshAt: number;
  private accessToken: string | null = null;
  private refreshInFlight: Promise<void> | null = null;
  /** The token rotation behind `refreshInFlight`, resolving to the new tokens (for logout to revoke). */
  private rotation: Promise<Tokens> | null = null;
  /** Bumped whenever the tokens are forgotten: a refresh started before that must not bring them back. */
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  onSessionEnd?: () => void;
  readonly limits: Limits;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.store = opts.store ?? memoryStore();
    this.onSessionEnd = opts.onSessionEnd;
    this.refreshAt = opts.refreshAt ?? 0.8;
    this.limits = opts.limits ?? NO_LIMITS;
  }

  /** Whether a request can be authenticated now (an access token) or after a refresh (a refresh token). */
  get hasSession(): boolean {
    return this.accessToken !== null || this.store.get() !== null;
  }

  get hasAccessToken(): boolean {
    return this.accessToken !== null;
  }

  private setTokens(tokens: Tokens): void {
    this.accessToken = tokens.access_token;
    this.store.set(tokens.refresh_token);
    if (this.timer) clearTimeout(this.timer);
    const ms = Math.max(1, tokens.expires_in) * 1000 * this.refreshAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch(() => undefined);
    }, ms);
  }

  /** Forgets every token (memory, storage and the refresh timer). */
  clearTokens(): void {
    this.generation++;
    this.accessToken = null;
    this.store.set(null);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private endSession(): void {
    const had = this.hasSession;
    this.clearTokens();
    if (had) this.onSessionEnd?.();
  }

  /**
   * Rotates the refresh token. Every caller during one rotation shares the same in-flight promise: the
   * server spends a refresh token on use and revokes the whole family if it is presented twice.
   */
  refresh(): Promise<void> {
    if (this.refreshInFlight) return this.refreshInFlight;
    const token = this.store.get();
    if (!token) return Promise.reject(new ApiError('unauthorized', 'not signed in', 401));
    const gen = this.generation;
    const current = () => gen === this.generation;
    const rotation = (async () => {
      const res = await this.send('POST', '/auth/refresh', { refresh_token: token }, null);
      if (!res.ok) {
        const err = await toApiError(res);
        if (current() && (res.status === 400 || res.status === 401)) this.endSession();
        throw err;
      }
      const tokens = (await res.json()) as Tokens;
      // Signed out while this was on the wire: keep the tokens out (logout revokes them), never resurrect.
      if (current()) this.setTokens(tokens);
      return tokens;
    })();
    const inFlight: Promise<void> = rotation
      .then(() => {
        if (!current()) throw new ApiError('unauthorized', 'signed out', 401);
      })
      .finally(() => {
        if (this.refreshInFlight === inFlight) {
          this.refreshInFlight = null;
          this.rotation = null;
        }
      });
    this.rotation = rotation;
    this.refreshInFlight = inFlight;
    return inFlight;
  }

  private async send(method: string, path: string, body: unknown, bearer: string | null): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError('network', e instanceof Error ? e.message : String(e), 0);
    }
  }

  /** One API call; with `auth`, a 401 is answered by one refresh and exactly one retry. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth ?? true;
    if (auth && !this.accessToken) {
      if (this.refreshInFlight || this.store.get()) await this.refresh();
      else throw new ApiError('unauthorized', 'not signed in', 401);
    }
    const used = auth ? this.accessToken : null;
    let res = await this.send(method, path, opts.body, used);
    // A refused password (erasing the account) is about the body, not the token: no refresh, no retry.
    if (auth && res.status === 401 && (await toApiError(res.clone())).code === 'invalid_credentials') {
      throw await toApiError(res);
    }
    if (auth && res.status === 401) {
      // Another request may already have rotated the tokens while this one was on the wire.
      if (this.accessToken === used) {
        await this.refresh(); // a refused refresh ends the session (see refresh) and throws
      }
      res = await this.send(method, path, opts.body, this.accessToken);
      if (res.status === 401) {
        const err = await toApiError(res);
        this.endSession();
        throw err;
      }
    }
    if (!res.ok) throw await toApiError(res);
    if (opts.raw) return res as unknown as T;
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  // --- auth -------------------------------------------------------------------------------------------

  register(email: string, password: string, name?: string): Promise<User> {
    return this.request<User>('POST', '/auth/register', { auth: false, body: { email, password, name: name || null } });
  }

  async login(email: string, password: string): Promise<void> {
    const tokens = await this.request<Tokens>('POST', '/auth/login', { auth: false, body: { email, password } });
    this.setTokens(tokens);
  }

  /** Signs out on the server (best effort) and always forgets the tokens here. */
  async logout(): Promise<void> {
    let refresh = this.store.get();
    let access = this.accessToken;
    const rotation = this.rotation;
    this.clearTokens(); // also stops a refresh in flight from storing its tokens
    if (rotation) {
      // The refresh token above is being spent: revoke the one the rotation hands out instead.
      try {
        const tokens = await rotation;
        refresh = tokens.refresh_token;
        access = tokens.access_token;
      } catch {
        return; // refused: there is no session left to revoke
      }
    }
    if (!access || !refresh) return;
    try {
      await this.send('POST', '/auth/logout', { refresh_token: refresh }, access);
    } catch {
      /* offline: the tokens are gone here anyway */
    }
  }

  me(): Promise<User> {
    return this.request<User>('GET', '/auth/me');
  }

  // --- videos -----------------------------------------------------------------------------------------

  listVideos(cursor?: string | null, limit = 10): Promise<VideoPage> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return this.request<VideoPage>('GET', `/videos?${q}`);
  }

  getVideo(id: string): Promise<Video> {
    return this.request<Video>('GET', `/videos/${encodeURIComponent(id)}`);
  }

  /** The consent statement every upload must accept (public). */
  consent(): Promise<ConsentStatement> {
    return this.request<ConsentStatement>('GET', '/consent', { auth: false });
  }

  createVideo(body: {
    filename: string;
    content_type: string;
    size: number;
    title?: string;
    backend?: string;
    consent: ConsentGiven;
  }): Promise<CreatedVideo> {
    return this.request<CreatedVideo>('POST', '/videos', { body });
  }

  retryVideo(id: string): Promise<Video> {
    return this.request<Video>('POST', `/videos/${encodeURIComponent(id)}/retry`, { body: {} });
  }

  deleteVideo(id: string): Promise<void> {
    return this.request<void>('DELETE', `/videos/${encodeURIComponent(id)}`);
  }

  results(id: string): Promise<Analysis> {
    return this.request<Analysis>('GET', `/videos/${encodeURIComponent(id)}/results`);
  }

  async resultsCsv(id: string): Promise<Blob> {
    const res = await this.request<Response>('GET', `/videos/${encodeURIComponent(id)}/results.csv`, { raw: true });
    return res.blob();
  }

  media(id: string): Promise<MediaUrl> {
    return this.request<MediaUrl>('GET', `/videos/${encodeURIComponent(id)}/media`);
  }

  stats(): Promise<Stats> {
    return this.request<Stats>('GET', '/stats');
  }

  // --- account ----------------------------------------------------------------------------------------

  accountSettings(): Promise<AccountSettings> {
    return this.request<AccountSettings>('GET', '/account/settings');
  }

  updateAccountSettings(settings: AccountSettings): Promise<AccountSettings> {
    return this.request<AccountSettings>('PUT', '/account/settings', { body: settings });
  }

  /** A link to a zip of everything the account holds; the source videos only when asked. */
  exportAccount(videos: boolean): Promise<AccountExport> {
    return this.request<AccountExport>('GET', `/account/export?videos=${videos}`);
  }

  /** Erases the account and everything of it (the password entered again). The session ends with it. */
  async deleteAccount(password: string): Promise<void> {
    await this.request<void>('DELETE', '/account', { body: { password } });
    this.clearTokens();
  }

  // --- audience studies -------------------------------------------------------------------------------

  listStudies(): Promise<StudyPage> {
    return this.request<StudyPage>('GET', '/studies');
  }

  getStudy(id: string): Promise<Study> {
    return this.request<Study>('GET', `/studies/${encodeURIComponent(id)}`);
  }

  /** Creates a study; its content video goes to storage with the presigned POST answered. */
  createStudy(body: {
    title: string;
    content: { filename: string; content_type: string; size: number; duration: number };
  }): Promise<CreatedStudy> {
    return this.request<CreatedStudy>('POST', '/studies', { body });
  }

  deleteStudy(id: string): Promise<void> {
    return this.request<void>('DELETE', `/studies/${encodeURIComponent(id)}`);
  }

  studyContent(id: string): Promise<MediaUrl> {
    return this.request<MediaUrl>('GET', `/studies/${encodeURIComponent(id)}/content`);
  }

  listViewers(id: string): Promise<{ items: Viewer[] }> {
    return this.request<{ items: Viewer[] }>('GET', `/studies/${encodeURIComponent(id)}/viewers`);
  }

  /** A viewer recording made elsewhere, with the viewer's own consent; the file goes with the presigned POST. */
  addViewer(
    id: string,
    body: { filename: string; content_type: string; size: number; offset: number; label?: string; consent: ConsentGiven },
  ): Promise<CreatedViewer> {
    return this.request<CreatedViewer>('POST', `/studies/${encodeURIComponent(id)}/viewers`, { body });
  }

  deleteViewer(id: string, viewerId: string): Promise<void> {
    return this.request<void>('DELETE', `/studies/${encodeURIComponent(id)}/viewers/${encodeURIComponent(viewerId)}`);
  }

  /** `step` left out: the API's display step of the content (the response's `step` says which). */
  viewerCurve(id: string, viewerId: string, step?: number): Promise<ViewerCurve> {
    return this.request<ViewerCurve>(
      'GET',
      `/studies/${encodeURIComponent(id)}/viewers/${encodeURIComponent(viewerId)}/curve${stepQuery(step)}`,
    );
  }

  createInvite(id: string, body: { expires_in?: number; max_viewers?: number }): Promise<CreatedInvite> {
    return this.request<CreatedInvite>('POST', `/studies/${encodeURIComponent(id)}/invites`, { body });
  }

  listInvites(id: string): Promise<{ items: Invite[] }> {
    return this.request<{ items: Invite[] }>('GET', `/studies/${encodeURIComponent(id)}/invites`);
  }

  revokeInvite(id: string, inviteId: string): Promise<void> {
    return this.request<void>('DELETE', `/studies/${encodeURIComponent(id)}/invites/${encodeURIComponent(inviteId)}`);
  }

  /** `step` left out: the API's display step of the content (the response's `step` says which). */
  audience(id: string, step?: number): Promise<AudienceCurve> {
    return this.request<AudienceCurve>('GET', `/studies/${encodeURIComponent(id)}/audience${stepQuery(step)}`);
  }

  async audienceCsv(id: string, step?: number): Promise<Blob> {
    const res = await this.request<Response>('GET', `/studies/${encodeURIComponent(id)}/audience.csv${stepQuery(step)}`, { raw: true });
    return res.blob();
  }

  /** `step` left out: the API's display step of the longer content. */
  compare(a: string, b: string, step?: number): Promise<Comparison> {
    const q = new URLSearchParams({ a, b });
    if (step != null) q.set('step', String(step));
    return this.request<Comparison>('GET', `/compare?${q}`);
  }
}

/** `?step=<step>`, or nothing: the API then uses its display step for the content. */
function stepQuery(step: number | undefined): string {
  return step == null ? '' : `?step=${step}`;
}

/** The `<Code>` of an S3 XML error body, if there is one. */
export function s3ErrorCode(body: string | null | undefined): string | null {
  const m = /<Code>\s*([^<\s]+)\s*<\/Code>/.exec(body ?? '');
  return m ? m[1] : null;
}

/** Our error code for an S3 refusal, so the message can say what happened. */
export function uploadErrorCode(s3Code: string | null): string {
  switch (s3Code) {
    case 'AccessDenied':
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
      return 'upload_denied';
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
    case 'RequestTimeTooSkewed':
      return 'upload_expired';
    case 'EntityTooLarge':
    case 'MaxPostPreDataLengthExceeded':
      return 'upload_too_large';
    default:
      return 'upload_failed';
  }
}

/**
 * Sends a file with a presigned S3 POST: every policy field first, the file last, through XMLHttpRequest so
 * that `upload.onprogress` reports real progress. Resolves when S3 answers 2xx.
 */
export function uploadWithProgress(
  upload: PresignedPost,
  file: Blob,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else {
        const s3Code = s3ErrorCode(xhr.responseText);
        reject(new ApiError(uploadErrorCode(s3Code), `S3 answered ${xhr.status}${s3Code ? ` (${s3Code})` : ''}`, xhr.status));
      }
    };
    xhr.onerror = () => reject(new ApiError('upload_failed', 'the upload did not reach storage', 0));
    xhr.onabort = () => reject(new ApiError('upload_aborted', 'the upload was cancelled', 0));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

/**
 * The limits the API enforces, as `/config.json` names them (chalicelib/client_config.py writes them from the
 * same settings the API reads). Null: the configuration did not say, and the API's own answer is the check.
 */
export interface Limits {
  maxUploadBytes: number | null;
}

/** The web app's `/config.json`, written next to the app wherever it is served. */
export interface AppConfig {
  apiUrl: string;
  limits: Limits;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8000';

/** No limit known: the browser checks nothing itself and the API's 413 `too_large` says it. */
export const NO_LIMITS: Limits = { maxUploadBytes: null };

function positive(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * Reads `/config.json` (`{"apiUrl", "limits": {"maxUploadBytes", ...}}`). Without it (dev server, offline)
 * the API is the local default; a limit that is absent or not a positive number is left to the API
 * rather than guessed here, so the app never holds a second copy of a server setting.
 */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const fallback: AppConfig = { apiUrl: DEFAULT_API_URL, limits: NO_LIMITS };
  let cfg: unknown;
  try {
    const res = await fetchImpl('/config.json', { cache: 'no-store' });
    if (!res.ok) return fallback;
    cfg = await res.json();
  } catch {
    return fallback;
  }
  if (!cfg || typeof cfg !== 'object') return fallback;
  const { apiUrl, limits } = cfg as { apiUrl?: unknown; limits?: Record<string, unknown> };
  return {
    apiUrl: typeof apiUrl === 'string' && apiUrl ? apiUrl : DEFAULT_API_URL,
    limits: { maxUploadBytes: positive(limits && typeof limits === 'object' ? limits.maxUploadBytes : undefined) },
  };
}
