import type { ChartRow } from './shape';

/**
 * What the timeline draws on top of the samples, all for display only (the Analysis is never changed):
 * a moving average that makes the curves readable at a glance, the valence line, and the dominant emotion
 * of each moment for the ribbon view.
 */

/**
 * The display smoothing window, in seconds: a centred moving average over 1 s (5 samples at 5 per second).
 * Each face's probabilities are already filtered by the engine (a two-sided exponential, tau = 0.4 s;
 * docs/analysis.md), which keeps short expressions; this average takes out the sample-to-sample wobble that
 * is left (about 40% of it on the liveportrait d6 video) and still shows an expression that lasts 1 s.
 */
export const DISPLAY_SMOOTHING_SECONDS = 1;

/** The valence weights (docs/analysis.md, "Valence over time"): the same formula as `summary.valence`. */
export const VALENCE_POSITIVE = ['happy'] as const;
export const VALENCE_NEGATIVE = ['angry', 'disgust', 'fear', 'sad'] as const;

/** The valence series' key in a chart row. */
export const VALENCE_KEY = 'valence';

/**
 * Each series replaced by its mean over the samples within `windowSeconds / 2` either side (by time, so a
 * gap in the samples is not bridged by index). A sample with no value (no face) stays empty, and empty
 * neighbours do not count. `faces` is kept as it was. Returns `rows` itself when there is nothing to do.
 */
export function smoothRows(rows: ChartRow[], labels: readonly string[], windowSeconds = DISPLAY_SMOOTHING_SECONDS): ChartRow[] {
  if (!(windowSeconds > 0) || rows.length < 2 || labels.length === 0) return rows;
  const half = windowSeconds / 2 + 1e-9;
  const sums = new Float64Array(labels.length);
  const counts = new Int32Array(labels.length);
  const add = (r: ChartRow, sign: 1 | -1) => {
    labels.forEach((l, k) => {
      const v = r[l];
      if (v != null && Number.isFinite(v)) {
        sums[k] += sign * v;
        counts[k] += sign;
      }
    });
  };
  const out: ChartRow[] = [];
  let lo = 0;
  let hi = 0; // rows[lo, hi) are in the window
  for (const row of rows) {
    while (hi < rows.length && rows[hi].t <= row.t + half) add(rows[hi++], 1);
    while (rows[lo].t < row.t - half) add(rows[lo++], -1);
    const next = { ...row } as ChartRow;
    labels.forEach((l, k) => {
      // Sums of many additions and removals drift: clamp the tiny negative leftovers of a window of zeros.
      next[l] = row[l] == null || counts[k] === 0 ? null : Math.max(0, sums[k] / counts[k]);
    });
    out.push(next);
  }
  return out;
}

/**
 * The valence of one moment, from -1 to +1: p(happy) - (p(angry) + p(disgust) + p(fear) + p(sad)); surprise
 * and neutral count for neither side. Null where no emotion is known (no face).
 */
export function valenceOf(row: Record<string, number | null | undefined>): number | null {
  let known = false;
  let v = 0;
  for (const l of VALENCE_POSITIVE) {
    const p = row[l];
    if (p != null && Number.isFinite(p)) {
      known = true;
      v += p;
    }
  }
  for (const l of VALENCE_NEGATIVE) {
    const p = row[l];
    if (p != null && Number.isFinite(p)) {
      known = true;
      v -= p;
    }
  }
  return known ? Math.max(-1, Math.min(1, v)) : null;
}

/** The rows with their valence under `VALENCE_KEY` (new row objects; the input is not changed). */
export function withValence(rows: ChartRow[]): ChartRow[] {
  return rows.map((r) => ({ ...r, [VALENCE_KEY]: valenceOf(r) }) as ChartRow);
}

/** The label with the highest value in a row (the first in `labels` order on a tie); null with no face. */
export function dominantOf(row: ChartRow, labels: readonly string[]): string | null {
  let best: string | null = null;
  let bestValue = -Infinity;
  for (const l of labels) {
    const v = row[l];
    if (v != null && Number.isFinite(v) && v > bestValue) {
      best = l;
      bestValue = v;
    }
  }
  return best;
}

/** The ribbon view's series key of a label (1 where it is the dominant emotion, 0 elsewhere). */
export const ribbonKey = (label: string) => `ribbon_${label}`;

/**
 * The ribbon view's rows: each row gains one `ribbon_<label>` series per label, 1 for its dominant emotion
 * and 0 for the others (all null where no face is), so a stacked step chart paints a band of the dominant
 * emotion's colour. Also returns the labels that are dominant somewhere, in `labels` order (the legend's).
 */
export function ribbonRows(rows: ChartRow[], labels: readonly string[]): { rows: ChartRow[]; present: string[] } {
  const seen = new Set<string>();
  const out = rows.map((r) => {
    const dominant = dominantOf(r, labels);
    if (dominant) seen.add(dominant);
    const next = { ...r } as ChartRow;
    for (const l of labels) next[ribbonKey(l)] = dominant == null ? null : l === dominant ? 1 : 0;
    return next;
  });
  return { rows: out, present: labels.filter((l) => seen.has(l)) };
}
