import type { AudienceCurve, Comparison, Series, ViewerCurve } from '../api/types';
import { EMOTIONS } from './emotions';

/**
 * The audience curve as the charts draw it (display only; the API's numbers are never changed): one row per
 * grid time with, per series, the mean, its 95% band as a [low, high] pair (Recharts draws an Area between
 * them) and how many viewers it stands on.
 */

/** What the study chart shows: the seven expressions, or attention and the four reactions. */
export type SeriesGroup = 'expressions' | 'reactions';

export const EXPRESSION_SERIES: readonly string[] = EMOTIONS;
export const REACTION_GROUP_SERIES: readonly string[] = ['attention', 'interest', 'boredom', 'confusion', 'smile'];

/** A chart row: `t`, then per layer `<key>` (mean), `<key>__band` ([low, high] or null), `<key>__n`, ... */
export type BandRow = { t: number } & Record<string, number | null | [number, number]>;

export const bandKey = (key: string) => `${key}__band`;
export const lowKey = (key: string) => `${key}__lo`;
export const highKey = (key: string) => `${key}__hi`;
export const countKey = (key: string) => `${key}__n`;
export const viewerKey = (key: string) => `${key}__viewer`;

/** The series of `group` that the curve has, in the group's order. */
export function groupSeries(curve: Pick<AudienceCurve, 'series'>, group: SeriesGroup): string[] {
  const wanted = group === 'expressions' ? EXPRESSION_SERIES : REACTION_GROUP_SERIES;
  return wanted.filter((s) => curve.series.includes(s));
}

/** Whether the curve has any of the reactions/attention series (older analyses have none). */
export function hasReactionSeries(curve: Pick<AudienceCurve, 'series'>): boolean {
  return REACTION_GROUP_SERIES.some((s) => curve.series.includes(s));
}

/** Viewers behind series `s` at grid index `i` (the series' own n where it differs from the top-level n). */
export function countAt(curve: Pick<AudienceCurve, 'n' | 'n_by_series'>, s: string, i: number): number {
  return curve.n_by_series?.[s]?.[i] ?? curve.n[i] ?? 0;
}

const cell = (values: Series | undefined, i: number): number | null => {
  const v = values?.[i];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

function putLayer(row: BandRow, key: string, mean: number | null, low: number | null, high: number | null, n: number) {
  row[key] = mean;
  row[lowKey(key)] = low;
  row[highKey(key)] = high;
  row[bandKey(key)] = low != null && high != null ? [low, high] : null;
  row[countKey(key)] = n;
}

/** Values of `values` at the grid times `t`: by index when the grids match, else by time (to the ms). */
function onGrid(t: number[], from: { t: number[]; values: Series }): Series {
  if (from.t.length === t.length && from.t.every((x, i) => Math.abs(x - t[i]) < 1e-6)) return from.values;
  const byT = new Map(from.t.map((x, i) => [Math.round(x * 1000), from.values[i]]));
  return t.map((x) => byT.get(Math.round(x * 1000)) ?? null);
}

/**
 * Rows for `series` of the curve: `n` (viewers with a face), then each series' layer; with `viewer`, that
 * viewer's own value of each series under `<s>__viewer` (the drill-down drawn over the audience).
 */
export function audienceRows(curve: AudienceCurve, series: readonly string[], viewer?: Pick<ViewerCurve, 't' | 'values'> | null): BandRow[] {
  const own: Record<string, Series> = {};
  if (viewer) for (const s of series) if (viewer.values[s]) own[s] = onGrid(curve.t, { t: viewer.t, values: viewer.values[s] });
  return curve.t.map((t, i) => {
    const row = { t, n: curve.n[i] ?? 0 } as BandRow;
    for (const s of series) {
      putLayer(row, s, cell(curve.mean[s], i), cell(curve.low[s], i), cell(curve.high[s], i), countAt(curve, s, i));
      if (viewer) row[viewerKey(s)] = cell(own[s], i);
    }
    return row;
  });
}

/** The comparison's two layers (`a`, `b`) of one series and their difference (`diff`, a - b) on one grid. */
export function compareRows(cmp: Comparison, s: string): BandRow[] {
  const diff = cmp.difference[s];
  return cmp.t.map((t, i) => {
    const row = { t } as BandRow;
    for (const [key, curve] of [['a', cmp.a], ['b', cmp.b]] as const) {
      putLayer(row, key, cell(curve.mean[s], i), cell(curve.low[s], i), cell(curve.high[s], i), countAt(curve, s, i));
    }
    row.diff = cell(diff, i);
    return row;
  });
}

export interface Difference {
  t: number;
  diff: number;
  a: number | null;
  b: number | null;
}

/**
 * The largest differences (|a - b|) of the rows, strongest first, at least `apart` seconds from each other
 * so that one long gap is not listed five times.
 */
export function largestDifferences(rows: BandRow[], count = 3, apart = 5): Difference[] {
  const points = rows
    .filter((r) => typeof r.diff === 'number')
    .map((r) => ({ t: r.t, diff: r.diff as number, a: r.a as number | null, b: r.b as number | null }))
    .sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff) || x.t - y.t);
  const out: Difference[] = [];
  for (const p of points) {
    if (out.length >= count) break;
    if (out.every((q) => Math.abs(q.t - p.t) >= apart)) out.push(p);
  }
  return out;
}
