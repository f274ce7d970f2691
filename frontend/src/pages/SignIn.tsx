import { useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { Field } from '../components/Field';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { errorText, useI18n } from '../i18n';
import { validateEmail, validateLoginPassword } from '../lib/validation';

export function SignIn() {
  const { t } = useI18n();
  const { signIn, sessionEnded } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const state = (location.state ?? {}) as { from?: string; registered?: boolean; email?: string };
  const [email, setEmail] = useState(state.email ?? '');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState({ email: false, password: false });
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);
  usePageTitle(t('auth.signIn'));

  const emailErr = validateEmail(email);
  const passwordErr = validateLoginPassword(password);
  const show = (field: 'email' | 'password') => submitted || touched[field];

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setServerError(null);
    if (emailErr || passwordErr) return;
    setBusy(true);
    try {
      await signIn(email, password);
      navigate(state.from && state.from !== '/signin' ? state.from : '/', { replace: true });
    } catch (err) {
      setServerError(err);
      setBusy(false);
    }
  }

  return (
    <section className="auth-card" aria-labelledby="signin-title">
      <PageHeading id="signin-title">{t('auth.signInTitle')}</PageHeading>
      <p className="lead">{t('auth.signInLead')}</p>
      {state.registered && !serverError && (
        <p className="notice notice-success" role="status">
          {t('auth.registered')}
        </p>
      )}
      {sessionEnded && !state.registered && !serverError && (
        <p className="notice" role="status">
          {t('auth.sessionEnded')}
        </p>
      )}
      {serverError != null && (
        <p className="notice notice-error" role="alert">
          {errorText(serverError, t)}
        </p>
      )}
      <form onSubmit={onSubmit} noValidate>
        <Field
          label={t('auth.email')}
          type="email"
          name="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          onBlur={() => setTouched((s) => ({ ...s, email: true }))}
          error={show('email') && emailErr ? t(emailErr) : null}
          required
        />
        <Field
          label={t('auth.password')}
          type="password"
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          onBlur={() => setTouched((s) => ({ ...s, password: true }))}
          error={show('password') && passwordErr ? t(passwordErr) : null}
          required
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? t('auth.signingIn') : t('auth.signIn')}
        </button>
      </form>
      <p className="switch">
        {t('auth.noAccount')} <Link to="/register">{t('auth.register')}</Link>
      </p>
    </section>
  );
}
