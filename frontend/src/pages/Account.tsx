import { useEffect, useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { ApiError } from '../api/client';
import type { AccountExport } from '../api/types';
import { useAuth } from '../auth';
import { Field } from '../components/Field';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { ErrorState, Loading } from '../components/States';
import { errorText, useI18n } from '../i18n';
import { formatBytes, formatDate } from '../lib/format';
import { useForm } from '../lib/useForm';
import { validateLoginPassword } from '../lib/validation';

/** The API's bounds for `retention_days` (PUT /account/settings). */
const MAX_RETENTION_DAYS = 3650;
/** What the form proposes when switching to "after N days" from a setting without days. */
const DEFAULT_RETENTION_DAYS = 30;

type Choice = 'now' | 'days' | 'keep';

function choiceOf(days: number | null): Choice {
  return days == null ? 'keep' : days === 0 ? 'now' : 'days';
}

/** A whole number of days the API accepts for "after N days", or null. */
export function parseRetentionDays(raw: string): number | null {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n >= 1 && n <= MAX_RETENTION_DAYS ? n : null;
}

/** How long the source videos are kept after their analysis (results are kept regardless). */
function Retention() {
  const { t } = useI18n();
  const { client } = useAuth();
  const id = useId();
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [choice, setChoice] = useState<Choice>('days');
  const [days, setDays] = useState(String(DEFAULT_RETENTION_DAYS));
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [submitted, setSubmitted] = useState(false);

  useEffect(() => {
    let live = true;
    setLoadError(null);
    client.accountSettings().then(
      (s) => {
        if (!live) return;
        setChoice(choiceOf(s.retention_days));
        if (s.retention_days) setDays(String(s.retention_days));
        setLoaded(true);
      },
      (e) => live && setLoadError(e),
    );
    return () => {
      live = false;
    };
  }, [client, attempt]);

  const parsedDays = parseRetentionDays(days);
  const daysError = choice === 'days' && parsedDays == null && submitted ? t('account.retention.badDays') : null;

  async function save(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setSaved(false);
    setError(null);
    if (choice === 'days' && parsedDays == null) return;
    setBusy(true);
    try {
      const retention_days = choice === 'keep' ? null : choice === 'now' ? 0 : parsedDays;
      const s = await client.updateAccountSettings({ retention_days });
      setChoice(choiceOf(s.retention_days));
      if (s.retention_days) setDays(String(s.retention_days));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const change = (c: Choice) => {
    setChoice(c);
    setSaved(false);
  };

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('account.retention.title')}</h2>
      <p className="muted">{t('account.retention.lead')}</p>
      {!loaded && loadError != null ? (
        <ErrorState error={loadError} onRetry={() => setAttempt((n) => n + 1)} />
      ) : !loaded ? (
        <Loading />
      ) : (
        <form onSubmit={save} noValidate>
          <fieldset className="field">
            <legend className="sr-only">{t('account.retention.title')}</legend>
            <label className="radio">
              <input type="radio" name="retention" checked={choice === 'now'} onChange={() => change('now')} />
              {t('account.retention.now')}
            </label>
            <label className="radio">
              <input type="radio" name="retention" checked={choice === 'days'} onChange={() => change('days')} />
              {t('account.retention.days')}
            </label>
            {choice === 'days' && (
              <div className="retention-days">
                <Field
                  label={t('account.retention.daysLabel')}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={MAX_RETENTION_DAYS}
                  step={1}
                  value={days}
                  onChange={(e) => {
                    setDays(e.target.value);
                    setSaved(false);
                  }}
                  error={daysError}
                />
              </div>
            )}
            <label className="radio">
              <input type="radio" name="retention" checked={choice === 'keep'} onChange={() => change('keep')} />
              {t('account.retention.keep')}
            </label>
          </fieldset>
          {error != null && (
            <p className="notice notice-error" role="alert">
              {errorText(error, t)}
            </p>
          )}
          {saved && (
            <p className="notice notice-success" role="status">
              {t('account.retention.saved')}
            </p>
          )}
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? t('account.retention.saving') : t('account.retention.save')}
          </button>
        </form>
      )}
    </section>
  );
}

/** Starts the download of a (presigned, cross-origin) URL: the zip comes as an attachment, the page stays. */
function startDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Everything the account holds, as a zip (GET /account/export), with or without the videos. */
function Export() {
  const { t, locale } = useI18n();
  const { client } = useAuth();
  const id = useId();
  const [videos, setVideos] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [ready, setReady] = useState<AccountExport | null>(null);

  async function run() {
    setBusy(true);
    setError(null);
    setReady(null);
    try {
      const exp = await client.exportAccount(videos);
      setReady(exp);
      startDownload(exp.url);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('account.export.title')}</h2>
      <p className="muted">{t('account.export.lead')}</p>
      <label className="checkbox">
        <input type="checkbox" checked={videos} onChange={(e) => setVideos(e.target.checked)} />
        {t('account.export.videos')}
      </label>
      <div className="actions">
        <button type="button" className="btn btn-primary" onClick={run} disabled={busy}>
          {busy ? t('account.export.busy') : t('account.export.start')}
        </button>
      </div>
      {error != null && <ErrorState error={error} />}
      {ready && (
        <p className="notice notice-success" role="status">
          {t('account.export.ready', { size: formatBytes(ready.size, locale), time: formatDate(ready.expires_at, locale) })}{' '}
          <a href={ready.url} rel="noopener">
            {t('account.export.link')}
          </a>
        </p>
      )}
    </section>
  );
}

/** Erase the account and everything of it, after the password is entered again; then signed out. */
function Erase() {
  const { t } = useI18n();
  const { client, signOut } = useAuth();
  const navigate = useNavigate();
  const id = useId();
  const [open, setOpen] = useState(false);
  const form = useForm({
    initial: { password: '' },
    validate: (v) => ({ password: validateLoginPassword(v.password) }),
    onSubmit: async (v) => {
      await client.deleteAccount(v.password);
      // The server ended every session with the account; forget this one and leave.
      await signOut();
      navigate('/signin', { replace: true, state: { erased: true } });
    },
  });
  const passwordError = form.error('password');
  const refusal = form.serverError;

  return (
    <section className="panel panel-danger" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('account.erase.title')}</h2>
      <p>{t('account.erase.lead')}</p>
      {!open ? (
        <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
          {t('account.erase.start')}
        </button>
      ) : (
        <form onSubmit={form.submit} noValidate className="erase-confirm">
          <p className="notice notice-error">{t('account.erase.confirm')}</p>
          <Field
            label={t('auth.password')}
            type="password"
            autoComplete="current-password"
            autoFocus
            {...form.bind('password')}
            error={passwordError ? t(passwordError) : null}
            required
          />
          {refusal != null && (
            <p className="notice notice-error" role="alert">
              {refusal instanceof ApiError && refusal.code === 'invalid_credentials'
                ? t('account.erase.wrongPassword')
                : errorText(refusal, t)}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="btn btn-danger-solid" disabled={form.busy}>
              {form.busy ? t('account.erase.busy') : t('account.erase.submit')}
            </button>
            <button type="button" className="btn btn-secondary" onClick={() => setOpen(false)} disabled={form.busy}>
              {t('account.erase.cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/** Account settings: retention of source videos, export of everything, erasure of everything. */
export function Account() {
  const { t } = useI18n();
  usePageTitle(t('account.title'));
  return (
    <div className="stack">
      <PageHeading>{t('account.title')}</PageHeading>
      <Retention />
      <Export />
      <Erase />
    </div>
  );
}
