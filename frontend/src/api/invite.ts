import { ApiError, toApiError, type ApiClient } from './client';
import type { ConsentGiven, InviteInfo, InviteUpload, InviteViewer, InviteViewerStatus, MediaUrl } from './types';

/**
 * The API as a viewer holding an invite link sees it: every call carries the link's token in
 * `X-Invite-Token` (and, for their own recording, the withdraw token in `X-Withdraw-Token`), and never an
 * `Authorization` header. It has no session to send or refresh, so a creator who opens their own link in a
 * signed-in tab neither spends nor leaks their tokens.
 */
export class InviteClient {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: { baseUrl: string; token: string; fetch?: typeof fetch }) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.fetchImpl = opts.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  }

  /** The invite client for `token`, on the app client's API and fetch (none of its tokens). */
  static of(client: ApiClient, token: string): InviteClient {
    return new InviteClient({ baseUrl: client.baseUrl, token, fetch: client.fetchImpl });
  }

  private async call<T>(method: string, path: string, body?: unknown, withdrawToken?: string): Promise<T> {
    const headers: Record<string, string> = { 'X-Invite-Token': this.token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (withdrawToken) headers['X-Withdraw-Token'] = withdrawToken;
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
      });
    } catch (e) {
      throw new ApiError('network', e instanceof Error ? e.message : String(e), 0);
    }
    if (!res.ok) throw await toApiError(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** The study's title and the viewer consent statement (401 invalid, 410 expired or revoked). */
  info(): Promise<InviteInfo> {
    return this.call<InviteInfo>('GET', '/invite');
  }

  content(): Promise<MediaUrl> {
    return this.call<MediaUrl>('GET', '/invite/content');
  }

  /** Records the viewer's consent and makes their session (409 invite_full) — before any camera is asked. */
  join(consent: ConsentGiven): Promise<InviteViewer> {
    return this.call<InviteViewer>('POST', '/invite/viewers', { consent });
  }

  /** The presigned upload for the viewer's one recording (409 already_uploaded on a second call). */
  upload(viewerId: string, withdrawToken: string, body: { filename: string; content_type: string; size: number }): Promise<InviteUpload> {
    return this.call<InviteUpload>('POST', `/invite/viewers/${encodeURIComponent(viewerId)}/upload`, body, withdrawToken);
  }

  status(viewerId: string, withdrawToken: string): Promise<InviteViewerStatus> {
    return this.call<InviteViewerStatus>('GET', `/invite/viewers/${encodeURIComponent(viewerId)}`, undefined, withdrawToken);
  }

  /** Withdraws: the recording and its analysis are deleted (works after the invite expired or was revoked). */
  withdraw(viewerId: string, withdrawToken: string): Promise<void> {
    return this.call<void>('DELETE', `/invite/viewers/${encodeURIComponent(viewerId)}`, undefined, withdrawToken);
  }
}
