import { ApiError } from '../api/client';
import { messages, LOCALES, type Locale, type MessageKey } from './messages';

export type { Locale, MessageKey };
/** Translates a key, filling `{vars}` (numbers are formatted for the locale); `locale` says which language. */
export type Translate = ((key: MessageKey, vars?: Record<string, string | number>) => string) & { locale: Locale };

/** Message families with one variant per plural category (`.one`, `.other`; others fall back to `.other`). */
export type PluralBase = 'stats.videoCount' | 'results.segments' | 'unit.seconds' | 'unit.minutes';

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
  const nf = new Intl.NumberFormat(locale);
  const t = (key: MessageKey, vars?: Record<string, string | number>) => {
    let text: string = dict[key] ?? messages.en[key] ?? key;
    if (vars) {
      for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(typeof v === 'number' ? nf.format(v) : v);
    }
    return text;
  };
  return Object.assign(t, { locale });
}

const pluralRules = new Map<string, Intl.PluralRules>();

/** "{count} video(s)" done right: the message for `count`'s plural category (Intl.PluralRules). */
export function plural(t: Translate, base: PluralBase, count: number, vars?: Record<string, string | number>): string {
  let rules = pluralRules.get(t.locale);
  if (!rules) pluralRules.set(t.locale, (rules = new Intl.PluralRules(t.locale)));
  const category = rules.select(count);
  const key = (`${base}.${category}` in messages.en ? `${base}.${category}` : `${base}.other`) as MessageKey;
  return t(key, { count, ...vars });
}

/** A wait in words: "45 seconds", "3 minutes". */
function waitText(seconds: number, t: Translate): string {
  const s = Math.max(1, Math.ceil(seconds));
  return s < 60 ? plural(t, 'unit.seconds', s) : plural(t, 'unit.minutes', Math.ceil(s / 60));
}

/**
 * An error in words: the translation of a known code, else a generic message for its HTTP status family
 * (never the server's English sentence).
 */
export function errorText(err: unknown, t: Translate): string {
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited') {
      return err.retryAfter != null ? t('error.rate_limited', { wait: waitText(err.retryAfter, t) }) : t('error.rate_limited_later');
    }
    const key = `error.${err.code}` as MessageKey;
    if (key in messages.en) return t(key);
    if (err.status >= 500) return t('error.http_5xx', { status: String(err.status) });
    if (err.status >= 400) return t('error.http_4xx', { status: String(err.status) });
    return t('error.unknown');
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
