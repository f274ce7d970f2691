import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { detectLocale, plural, STORAGE_KEY, translator, type Locale, type PluralBase, type Translate } from './core';

export * from './core';

interface I18n {
  locale: Locale;
  setLocale: (l: Locale) => void;
  t: Translate;
  /** A plural message for `count` (see `plural`). */
  tn: (base: PluralBase, count: number, vars?: Record<string, string | number>) => string;
}

const I18nContext = createContext<I18n | null>(null);

function readSaved(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => detectLocale(readSaved(), navigator.languages ?? [navigator.language]));
  const setLocale = useCallback((l: Locale) => {
    setLocaleState(l);
    try {
      window.localStorage.setItem(STORAGE_KEY, l);
    } catch {
      /* private mode: the choice lasts for this page */
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo(() => {
    const t = translator(locale);
    return { locale, setLocale, t, tn: (base: PluralBase, count: number, vars?: Record<string, string | number>) => plural(t, base, count, vars) };
  }, [locale, setLocale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error('useI18n outside I18nProvider');
  return ctx;
}
