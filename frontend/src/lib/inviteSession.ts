/**
 * A viewer's session of one invite, kept in sessionStorage (this tab only, gone when it closes) so that a
 * reload of the thank-you page can still show the status and withdraw: the viewer id and the withdraw
 * token the API gave when the viewer agreed. Nothing else about the viewer is stored.
 */
export interface InviteSession {
  viewerId: string;
  withdrawToken: string;
  label: string;
  /** joined: agreed, nothing uploaded; issued: the one upload was asked for; uploaded: it reached storage. */
  stage: 'joined' | 'issued' | 'uploaded';
}

const key = (token: string) => `emotionfy.watch.${token}`;

export function loadInviteSession(token: string): InviteSession | null {
  try {
    const raw = window.sessionStorage.getItem(key(token));
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<InviteSession>;
    if (typeof s.viewerId !== 'string' || typeof s.withdrawToken !== 'string') return null;
    const stage = s.stage === 'issued' || s.stage === 'uploaded' ? s.stage : 'joined';
    return { viewerId: s.viewerId, withdrawToken: s.withdrawToken, label: typeof s.label === 'string' ? s.label : '', stage };
  } catch {
    return null;
  }
}

export function saveInviteSession(token: string, session: InviteSession | null): void {
  try {
    if (session) window.sessionStorage.setItem(key(token), JSON.stringify(session));
    else window.sessionStorage.removeItem(key(token));
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
}
