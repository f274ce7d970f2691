/**
 * THE DURATION RULE, one for the app, the video player and the CLI (chalicelib/engine/report.py
 * `format_duration`): a time is cut down to the unit shown, never rounded up, the way video players show
 * their clock. A 33.6 s video is "0:33" everywhere (the player's controls show 0:33; rounding would say
 * 0:34), a moment at 59.96 s is "0:59.9". `EPSILON` absorbs binary fractions (0.7 - 0.4 = 0.29999999999999993 is 0.3).
 */
const EPSILON = 1e-6;

/** Whole units of `1 / perSecond` seconds in `seconds`, cut down (never rounded up); 0 for bad input. */
export function truncateTime(seconds: number, perSecond = 1): number {
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.floor(seconds * perSecond + EPSILON);
}

/** "m:ss" (or "h:mm:ss") for a duration in seconds, cut to whole seconds (the duration rule); "—" when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const total = truncateTime(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const separators = new Map<string, string>();

/** The locale's decimal separator ("." in English, "," in Spanish). */
export function decimalSeparator(locale?: string): string {
  const k = locale ?? '';
  let sep = separators.get(k);
  if (sep === undefined) {
    sep = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
    separators.set(k, sep);
  }
  return sep;
}

/**
 * A moment in a video with tenths: "0:02.8", "1:02:05.2" (with the locale's decimal separator). Cut to
 * tenths (the duration rule) before splitting, so 59.96 is "0:59.9", inside a "0:59" video.
 */
export function formatTime(seconds: number, locale?: string): string {
  const tenths = truncateTime(seconds, 10);
  const h = Math.floor(tenths / 36000);
  const m = Math.floor((tenths % 36000) / 600);
  const rest = tenths % 600;
  const ss = `${String(Math.floor(rest / 10)).padStart(2, '0')}${decimalSeparator(locale)}${rest % 10}`;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A long duration in words-ish form for statistics: "1 h 02 min", "3 min 05 s", "12 s" (cut, the duration rule). */
export function formatLongDuration(seconds: number, locale: string): string {
  const total = truncateTime(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const n = (v: number) => new Intl.NumberFormat(locale).format(v);
  if (h > 0) return `${n(h)} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${n(m)} min ${String(s).padStart(2, '0')} s`;
  return `${n(s)} s`;
}

export function formatDate(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A calendar day (`YYYY-MM-DD`, as the weekly stats give it) without shifting it by the time zone. */
export function formatDay(day: string, locale: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/** A plain number for the locale ("1,234" / "1234", "1.234"), with a cached Intl.NumberFormat. */
export function formatNumber(value: number, locale: string): string {
  let nf = numberFormats.get(locale);
  if (!nf) numberFormats.set(locale, (nf = new Intl.NumberFormat(locale)));
  return nf.format(value);
}

export function formatPercent(value: number | null | undefined, locale: string, digits = 0): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

export function formatSigned(value: number | null | undefined, locale: string): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    signDisplay: 'exceptZero',
  }).format(value);
}

/** A difference of shares as a signed whole percent ("+40%", "-5%", "0%"). */
export function formatSignedPercent(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' }).format(value);
}

export function formatBytes(bytes: number, locale: string): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}

/** Round tick positions for a time axis of `duration` seconds (at most about `max` ticks). */
export function timeTicks(duration: number, max = 7): number[] {
  if (!(duration > 0)) return [0];
  const steps = [0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  const step = steps.find((s) => duration / s <= max - 1) ?? Math.ceil(duration / (max - 1) / 3600) * 3600;
  const ticks: number[] = [];
  for (let v = 0; v <= duration + 1e-9; v += step) ticks.push(Math.round(v * 1000) / 1000);
  return ticks;
}

/** A tick label: "0:02" for whole seconds, "0:01.5" otherwise. */
export function formatTick(seconds: number, locale?: string): string {
  return Number.isInteger(Math.round(seconds * 1000) / 1000) ? formatDuration(seconds) : formatTime(seconds, locale);
}
