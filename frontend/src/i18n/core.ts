import { ApiError } from '../api/client';
import { messages, LOCALES, type Locale, type MessageKey } from './messages';

export type { Locale, MessageKey };
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export const STORAGE_KEY = 'emotionfy.lang';

/** The saved choice, else the first browser language we speak, else English. */
export function detectLocale(saved: string | null, languages: readonly string[]): Locale {
  if (saved && (LOCALES as string[]).includes(saved)) return saved as Locale;
  for (const lang of languages) {
    const base = lang.toLowerCase().split('-')[0];
    if ((LOCALES as string[]).includes(base)) return base as Locale;
  }
  return 'en';
}

export function translator(locale: Locale): Translate {
  const dict = messages[locale];
  return (key, vars) => {
    let text = dict[key] ?? messages.en[key] ?? key;
    if (vars) for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
    return text;
  };
}

/** An error in words: the translation of a known API code, else the server's own message. */
export function errorText(err: unknown, t: Translate): string {
  if (err instanceof ApiError) {
    const key = `error.${err.code}` as MessageKey;
    if (key in messages.en) return t(key);
    return err.message || err.code;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
