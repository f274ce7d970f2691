import type { ChartRow } from './shape';

/**
 * At most `maxPoints` rows for drawing: the rows are cut into equal buckets (by index, the rows being on an
 * even time grid) and each bucket becomes one row holding the MAXIMUM of every series in it (null only if
 * the series is null throughout the bucket), so short peaks — the moments that matter — stay visible. The
 * bucket's time is its middle sample's real time, so a tooltip can show that real sample. Rows that already
 * fit are returned as the same array (a stable reference keeps the chart from redrawing).
 *
 * Series named in `averaged` get the MEAN of the bucket's values instead: shares that must still add up
 * (a stacked view) and signed measures such as valence, where a maximum would hide the dips.
 */
export function downsampleRows(
  rows: ChartRow[],
  labels: readonly string[],
  maxPoints: number,
  averaged: readonly string[] = [],
): ChartRow[] {
  const max = Math.max(2, Math.floor(maxPoints));
  if (rows.length <= max) return rows;
  const mean = labels.filter((l) => averaged.includes(l));
  const peak = labels.filter((l) => !averaged.includes(l));
  const out: ChartRow[] = [];
  const size = rows.length / max;
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(rows.length, Math.floor((b + 1) * size));
    if (to <= from) continue;
    const mid = rows[from + Math.floor((to - from - 1) / 2)];
    const row = { t: mid.t, faces: 0 } as ChartRow;
    for (const l of labels) row[l] = null;
    for (let i = from; i < to; i++) {
      const r = rows[i];
      if (r.faces > row.faces) row.faces = r.faces;
      for (const l of peak) {
        const v = r[l];
        if (v != null && (row[l] == null || v > (row[l] as number))) row[l] = v;
      }
    }
    for (const l of mean) {
      let sum = 0;
      let n = 0;
      for (let i = from; i < to; i++) {
        const v = rows[i][l];
        if (v != null) {
          sum += v;
          n++;
        }
      }
      row[l] = n ? sum / n : null;
    }
    out.push(row);
  }
  return out;
}

/** The row whose time is closest to t, by binary search (rows sorted by time). */
export function nearestRow(rows: ChartRow[], t: number): ChartRow | undefined {
  if (!rows.length) return undefined;
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(rows[lo - 1].t - t) <= Math.abs(rows[lo].t - t)) return rows[lo - 1];
  return rows[lo];
}
