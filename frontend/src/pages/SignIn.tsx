import { Link, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { Field } from '../components/Field';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { errorText, useI18n } from '../i18n';
import { useForm } from '../lib/useForm';
import { validateEmail, validateLoginPassword } from '../lib/validation';

export function SignIn() {
  const { t } = useI18n();
  const { signIn, sessionEnded } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const state = (location.state ?? {}) as { from?: string; registered?: boolean; email?: string; erased?: boolean };
  usePageTitle(t('auth.signIn'));
  const form = useForm({
    initial: { email: state.email ?? '', password: '' },
    validate: (v) => ({ email: validateEmail(v.email), password: validateLoginPassword(v.password) }),
    onSubmit: async (v) => {
      await signIn(v.email, v.password);
      navigate(state.from && state.from !== '/signin' ? state.from : '/', { replace: true });
    },
  });
  const { serverError } = form;
  const fieldError = (f: 'email' | 'password') => {
    const key = form.error(f);
    return key ? t(key) : null;
  };

  return (
    <section className="auth-card" aria-labelledby="signin-title">
      <PageHeading id="signin-title">{t('auth.signInTitle')}</PageHeading>
      <p className="lead">{t('auth.signInLead')}</p>
      {state.registered && !serverError && (
        <p className="notice notice-success" role="status">
          {t('auth.registered')}
        </p>
      )}
      {state.erased && !serverError && (
        <p className="notice notice-success" role="status">
          {t('auth.erased')}
        </p>
      )}
      {sessionEnded && !state.registered && !state.erased && !serverError && (
        <p className="notice" role="status">
          {t('auth.sessionEnded')}
        </p>
      )}
      {serverError != null && (
        <p className="notice notice-error" role="alert">
          {errorText(serverError, t)}
        </p>
      )}
      <form onSubmit={form.submit} noValidate>
        <Field label={t('auth.email')} type="email" autoComplete="email" {...form.bind('email')} error={fieldError('email')} required />
        <Field
          label={t('auth.password')}
          type="password"
          autoComplete="current-password"
          {...form.bind('password')}
          error={fieldError('password')}
          required
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={form.busy}>
          {form.busy ? t('auth.signingIn') : t('auth.signIn')}
        </button>
      </form>
      <p className="switch">
        {t('auth.noAccount')} <Link to="/register">{t('auth.register')}</Link>
      </p>
    </section>
  );
}
