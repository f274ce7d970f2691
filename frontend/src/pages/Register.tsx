import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { Field } from '../components/Field';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { errorText, useI18n } from '../i18n';
import { validateEmail, validateNewPassword } from '../lib/validation';

export function Register() {
  const { t } = useI18n();
  usePageTitle(t('auth.register'));
  const { client, signIn } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState({ email: false, password: false });
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);

  const emailErr = validateEmail(email);
  const passwordErr = validateNewPassword(password, email);
  const show = (field: 'email' | 'password') => submitted || touched[field];

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setServerError(null);
    if (emailErr || passwordErr) return;
    setBusy(true);
    try {
      await client.register(email.trim(), password, name.trim() || undefined);
    } catch (err) {
      setServerError(err);
      setBusy(false);
      return;
    }
    try {
      // The account exists: sign in with what was just typed, so nobody types the password twice.
      await signIn(email, password);
      navigate('/', { replace: true });
    } catch {
      // Signing in failed (a limit, the network): the account is there, sign in by hand.
      navigate('/signin', { state: { registered: true, email: email.trim() } });
    }
  }

  return (
    <section className="auth-card" aria-labelledby="register-title">
      <PageHeading id="register-title">{t('auth.registerTitle')}</PageHeading>
      <p className="lead">{t('auth.registerLead')}</p>
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
          label={t('auth.name')}
          type="text"
          name="name"
          autoComplete="name"
          maxLength={120}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <Field
          label={t('auth.password')}
          type="password"
          name="password"
          autoComplete="new-password"
          value={password}
          hint={t('auth.passwordHint')}
          onChange={(e) => setPassword(e.target.value)}
          onBlur={() => setTouched((s) => ({ ...s, password: true }))}
          error={show('password') && passwordErr ? t(passwordErr) : null}
          required
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? t('auth.registering') : t('auth.register')}
        </button>
      </form>
      <p className="switch">
        {t('auth.haveAccount')} <Link to="/signin">{t('auth.signIn')}</Link>
      </p>
    </section>
  );
}
