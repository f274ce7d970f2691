import { Link, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { Field } from '../components/Field';
import { PageHeading, usePageTitle } from '../components/PageHeading';
import { errorText, useI18n } from '../i18n';
import { useForm } from '../lib/useForm';
import { validateEmail, validateNewPassword } from '../lib/validation';

export function Register() {
  const { t } = useI18n();
  usePageTitle(t('auth.register'));
  const { client, signIn } = useAuth();
  const navigate = useNavigate();
  const form = useForm({
    initial: { email: '', name: '', password: '' },
    validate: (v) => ({ email: validateEmail(v.email), password: validateNewPassword(v.password, v.email) }),
    onSubmit: async (v) => {
      await client.register(v.email.trim(), v.password, v.name.trim() || undefined);
      try {
        // The account exists: sign in with what was just typed, so nobody types the password twice.
        await signIn(v.email, v.password);
        navigate('/', { replace: true });
      } catch {
        // Signing in failed (a limit, the network): the account is there, sign in by hand.
        navigate('/signin', { state: { registered: true, email: v.email.trim() } });
      }
    },
  });
  const fieldError = (f: 'email' | 'password') => {
    const key = form.error(f);
    return key ? t(key) : null;
  };

  return (
    <section className="auth-card" aria-labelledby="register-title">
      <PageHeading id="register-title">{t('auth.registerTitle')}</PageHeading>
      <p className="lead">{t('auth.registerLead')}</p>
      {form.serverError != null && (
        <p className="notice notice-error" role="alert">
          {errorText(form.serverError, t)}
        </p>
      )}
      <form onSubmit={form.submit} noValidate>
        <Field label={t('auth.email')} type="email" autoComplete="email" {...form.bind('email')} error={fieldError('email')} required />
        <Field label={t('auth.name')} type="text" autoComplete="name" maxLength={120} {...form.bind('name')} />
        <Field
          label={t('auth.password')}
          type="password"
          autoComplete="new-password"
          hint={t('auth.passwordHint')}
          {...form.bind('password')}
          error={fieldError('password')}
          required
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={form.busy}>
          {form.busy ? t('auth.registering') : t('auth.register')}
        </button>
      </form>
      <p className="switch">
        {t('auth.haveAccount')} <Link to="/signin">{t('auth.signIn')}</Link>
      </p>
    </section>
  );
}
