import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import type { CreatedInvite, Invite } from '../../api/types';
import { useClient } from '../../auth';
import { useI18n, type MessageKey } from '../../i18n';
import { copyText } from '../../lib/clipboard';
import { formatDate, formatNumber } from '../../lib/format';
import { useLoad } from '../../lib/useLoad';
import { DataTable } from '../DataTable';
import { ErrorState, ListState } from '../States';

/** How long a new link stays valid (the API accepts 60 s to 30 days; 7 days is its default). */
export const EXPIRY_CHOICES: { seconds: number; label: MessageKey }[] = [
  { seconds: 3600, label: 'invites.expires.hour' },
  { seconds: 86_400, label: 'invites.expires.day' },
  { seconds: 7 * 86_400, label: 'invites.expires.week' },
  { seconds: 30 * 86_400, label: 'invites.expires.month' },
];
const DEFAULT_EXPIRY = 7 * 86_400;
const DEFAULT_MAX_VIEWERS = 50;
const MAX_VIEWERS = 1000;

function stateOf(invite: Invite): 'revoked' | 'expired' | 'full' | 'active' {
  if (invite.revoked) return 'revoked';
  if (invite.expired) return 'expired';
  if (invite.used >= invite.max_viewers) return 'full';
  return 'active';
}

/** The link just made: shown once (the API keeps only its hash), with a Copy button. */
function NewLink({ invite }: { invite: CreatedInvite }) {
  const { t } = useI18n();
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    const ok = await copyText(invite.url);
    setCopied(ok);
    if (!ok) inputRef.current?.select();
  }
  return (
    <div className="invite-link notice" data-testid="invite-link">
      <label htmlFor={`${id}-url`}>{t('invites.link')}</label>
      <div className="copy-row">
        <input id={`${id}-url`} ref={inputRef} type="text" readOnly value={invite.url} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="btn btn-primary btn-small" onClick={copy}>
          {t('invites.copy')}
        </button>
      </div>
      <p className="small" role="status">
        {copied === true ? t('invites.copied') : copied === false ? t('invites.copyFailed') : t('invites.onceHint')}
      </p>
    </div>
  );
}

/**
 * Invite links of a study: make one (how long it lasts, how many viewers it admits), copy it, see each
 * link's use and expiry, revoke it. Whoever opens a link watches the content while their camera records
 * (pages/Watch.tsx), after agreeing to the viewer statement.
 */
export function InvitesPanel({ studyId }: { studyId: string }) {
  const { t, locale } = useI18n();
  const client = useClient();
  const id = useId();
  const [expiresIn, setExpiresIn] = useState(DEFAULT_EXPIRY);
  const [maxViewers, setMaxViewers] = useState(String(DEFAULT_MAX_VIEWERS));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<CreatedInvite | null>(null);

  const invites = useLoad(useCallback(() => client.listInvites(studyId).then((r) => r.items), [client, studyId]));

  const max = Number(maxViewers);
  const maxValid = Number.isInteger(max) && max >= 1 && max <= MAX_VIEWERS;

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!maxValid) return;
    setBusy(true);
    setError(null);
    try {
      setCreated(await client.createInvite(studyId, { expires_in: expiresIn, max_viewers: max }));
      invites.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(invite: Invite) {
    if (!window.confirm(t('invites.revokeConfirm'))) return;
    setError(null);
    try {
      await client.revokeInvite(studyId, invite.id);
      if (created?.id === invite.id) setCreated(null);
      invites.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('invites.title')}</h2>
      <p className="muted">{t('invites.lead')}</p>
      <form className="inline-form" onSubmit={create} noValidate>
        <div className="field">
          <label htmlFor={`${id}-expires`}>{t('invites.expiresIn')}</label>
          <select id={`${id}-expires`} value={expiresIn} onChange={(e) => setExpiresIn(Number(e.target.value))}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.seconds} value={c.seconds}>
                {t(c.label)}
              </option>
            ))}
          </select>
        </div>
        <div className={`field${maxValid ? '' : ' field-invalid'}`}>
          <label htmlFor={`${id}-max`}>{t('invites.maxViewers')}</label>
          <input
            id={`${id}-max`}
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_VIEWERS}
            value={maxViewers}
            aria-invalid={maxValid ? undefined : true}
            aria-describedby={maxValid ? undefined : `${id}-max-error`}
            onChange={(e) => setMaxViewers(e.target.value)}
          />
          {!maxValid && (
            <p id={`${id}-max-error`} className="field-error">
              {t('invites.maxInvalid', { max: MAX_VIEWERS })}
            </p>
          )}
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy || !maxValid}>
          {t('invites.create')}
        </button>
      </form>
      {created && <NewLink invite={created} />}
      {error != null && <ErrorState error={error} />}
      <ListState items={invites.value} error={invites.error} onRetry={invites.reload} empty={t('invites.empty')}>
        {(items) => (
          <DataTable
            className="invites-table"
            columns={[t('invites.created'), t('invites.expires'), t('invites.used'), t('invites.state')]}
            actions={t('study.viewer.actions')}
          >
            {items.map((inv) => {
              const state = stateOf(inv);
              return (
                <tr key={inv.id} data-invite={inv.id}>
                  <td>{formatDate(inv.created_at, locale)}</td>
                  <td>{formatDate(inv.expires_at, locale)}</td>
                  <td className="num">
                    {t('invites.usedValue', { used: formatNumber(inv.used, locale), max: formatNumber(inv.max_viewers, locale) })}
                  </td>
                  <td>
                    <span className={`badge badge-invite-${state}`}>{t(`invites.state.${state}` as MessageKey)}</span>
                  </td>
                  <td>
                    {!inv.revoked && !inv.expired && (
                      <button type="button" className="btn btn-small btn-danger" onClick={() => revoke(inv)}>
                        {t('invites.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </DataTable>
        )}
      </ListState>
    </section>
  );
}
