import type { ReactNode } from 'react';
import { Link, NavLink, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth';
import { LOCALES, type Locale } from '../i18n/messages';
import { useI18n } from '../i18n';

/** The language choice (also on the public viewer page, which has no app navigation). */
export function LanguageSelect() {
  const { locale, setLocale, t } = useI18n();
  return (
    <label className="lang">
      <span className="lang-label">{t('lang.label')}</span>
      <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l}>
            {l === 'es' ? 'Español' : 'English'}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The logo and the name, inside the top bar's brand (a link in the app, plain text on the viewer page). */
export function BrandMark() {
  return (
    <>
      <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="currentColor" />
        <path d="M5 20 L11 13 L16 18 L21 9 L27 15" fill="none" stroke="#f2b632" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <span>Emotionfy</span>
    </>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { phase, user, signOut } = useAuth();
  const { t } = useI18n();
  const navigate = useNavigate();
  const signedIn = phase === 'signedIn';
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t('common.skip')}
      </a>
      <header className="topbar">
        <Link to={signedIn ? '/' : '/signin'} className="brand" aria-label="Emotionfy">
          <BrandMark />
        </Link>
        {signedIn && (
          <nav aria-label={t('nav.main')} className="nav">
            <NavLink to="/" end>
              {t('nav.home')}
            </NavLink>
            <NavLink to="/stats">{t('nav.stats')}</NavLink>
            <NavLink to="/studies">{t('nav.studies')}</NavLink>
            <NavLink to="/account">{t('nav.account')}</NavLink>
          </nav>
        )}
        <div className="topbar-end">
          <LanguageSelect />
          {signedIn && (
            <>
              {user && <span className="user-email" title={user.email}>{user.email}</span>}
              <button
                type="button"
                className="btn btn-ghost"
                onClick={async () => {
                  await signOut();
                  navigate('/signin', { replace: true });
                }}
              >
                {t('nav.signOut')}
              </button>
            </>
          )}
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
