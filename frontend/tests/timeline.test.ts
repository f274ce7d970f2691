import { describe, expect, it } from 'vitest';
import type { ChartRow } from '../src/lib/shape';
import {
  DISPLAY_SMOOTHING_SECONDS,
  dominantOf,
  ribbonKey,
  ribbonRows,
  smoothRows,
  valenceOf,
  withValence,
} from '../src/lib/timeline';

const EMO = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
/** Rows at 5 per second with the given happy values (the rest neutral); null = no face. */
const rowsOf = (happy: (number | null)[]): ChartRow[] =>
  happy.map(
    (h, i) =>
      ({
        t: Math.round(i * 2) / 10,
        faces: h == null ? 0 : 1,
        ...Object.fromEntries(EMO.map((l) => [l, h == null ? null : l === 'happy' ? h : l === 'neutral' ? 1 - h : 0])),
      }) as ChartRow,
  );

describe('smoothRows (the display smoothing)', () => {
  it('is a centred moving average over 1 s: each sample with the two either side at 5 per second', () => {
    expect(DISPLAY_SMOOTHING_SECONDS).toBe(1);
    const rows = rowsOf([0, 0, 0, 0, 1, 0, 0, 0, 0]);
    const out = smoothRows(rows, EMO);
    expect(out.map((r) => r.happy)).toEqual([0, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0].map((v) => expect.closeTo(v, 10)));
    // shares still add up to 1, and the edges average what they have (no zero padding)
    for (const r of out) expect(EMO.reduce((s, l) => s + (r[l] as number), 0)).toBeCloseTo(1, 10);
    expect(smoothRows(rowsOf([1, 1, 0]), EMO)[0].happy).toBeCloseTo(2 / 3, 10);
  });

  it('takes the wobble out: a value that flips every sample comes out nearly flat', () => {
    const flips = rowsOf(Array.from({ length: 50 }, (_, i) => (i % 2 ? 0.9 : 0.1)));
    const out = smoothRows(flips, EMO).slice(2, -2);
    const step = (rs: ChartRow[]) => Math.max(...rs.slice(1).map((r, i) => Math.abs((r.happy as number) - (rs[i].happy as number))));
    expect(step(flips)).toBeCloseTo(0.8, 10);
    expect(step(out)).toBeLessThan(0.2);
  });

  it('keeps a sample without a face empty and does not count empty neighbours', () => {
    const out = smoothRows(rowsOf([0.5, null, 1, 1, 1]), EMO);
    expect(out[1].happy).toBeNull();
    expect(out[1].faces).toBe(0);
    expect(out[0].happy).toBeCloseTo(0.75, 10); // 0.5 and 1 (the empty sample between does not count)
  });

  it('works by time, not by index: samples more than 0.5 s away do not count', () => {
    const rows = [
      { t: 0, faces: 1, happy: 0 },
      { t: 0.4, faces: 1, happy: 1 },
      { t: 3, faces: 1, happy: 0.5 },
    ] as ChartRow[];
    const out = smoothRows(rows, ['happy']);
    expect(out.map((r) => r.happy)).toEqual([0.5, 0.5, 0.5]);
  });

  it('returns the same array when there is nothing to smooth, and never changes its input', () => {
    const rows = rowsOf([0, 1]);
    expect(smoothRows(rows, EMO, 0)).toBe(rows);
    expect(smoothRows(rows.slice(0, 1), EMO)).toHaveLength(1);
    const copy = JSON.stringify(rows);
    smoothRows(rows, EMO);
    expect(JSON.stringify(rows)).toBe(copy);
  });
});

describe('valence', () => {
  it('is happy minus (angry + disgust + fear + sad); surprise and neutral count for neither', () => {
    expect(valenceOf({ happy: 0.6, angry: 0.1, disgust: 0.05, fear: 0.05, sad: 0.1, surprise: 0.1, neutral: 0 })).toBeCloseTo(0.3, 10);
    expect(valenceOf({ happy: 0, surprise: 0.9, neutral: 0.1, angry: 0, disgust: 0, fear: 0, sad: 0 })).toBe(0);
    expect(valenceOf({ happy: 0, angry: 0.5, disgust: 0.2, fear: 0.2, sad: 0.1 })).toBeCloseTo(-1, 10);
    expect(valenceOf({ happy: null, angry: null, neutral: null })).toBeNull();
  });

  it('its mean over the samples with a face is the summary valence (computed from the mean shares)', () => {
    const samples = [
      { angry: 0.3, disgust: 0, fear: 0.1, happy: 0.1, sad: 0.1, surprise: 0.2, neutral: 0.2 },
      { angry: 0, disgust: 0.1, fear: 0, happy: 0.7, sad: 0, surprise: 0.1, neutral: 0.1 },
      null,
      { angry: 0.05, disgust: 0.05, fear: 0.4, happy: 0, sad: 0.2, surprise: 0.2, neutral: 0.1 },
    ];
    const rows = withValence(samples.map((e, i) => ({ t: i / 5, faces: e ? 1 : 0, ...(e ?? { happy: null }) }) as ChartRow));
    expect(rows[2].valence).toBeNull();
    const withFace = rows.filter((r) => r.valence != null);
    const mean = (k: string) => withFace.reduce((s, r) => s + (r[k] as number), 0) / withFace.length;
    const summaryValence = mean('happy') - (mean('angry') + mean('disgust') + mean('fear') + mean('sad'));
    expect(mean('valence')).toBeCloseTo(summaryValence, 10);
    expect(summaryValence).toBeCloseTo((-0.4 + 0.6 - 0.7) / 3, 10);
  });
});

describe('the dominant emotion ribbon', () => {
  it('marks the dominant emotion of each sample with 1, the others 0, and nothing where no face is', () => {
    const { rows, present } = ribbonRows(rowsOf([0.9, 0.2, null]), EMO);
    expect(rows[0][ribbonKey('happy')]).toBe(1);
    expect(rows[0][ribbonKey('neutral')]).toBe(0);
    expect(rows[1][ribbonKey('neutral')]).toBe(1);
    expect(rows[1][ribbonKey('happy')]).toBe(0);
    expect(EMO.every((l) => rows[2][ribbonKey(l)] === null)).toBe(true);
    expect(present).toEqual(['happy', 'neutral']); // the legend: only the emotions that lead somewhere
    expect(rows[0].happy).toBe(0.9); // the values stay for the tooltip
  });

  it('breaks a tie by the labels order', () => {
    expect(dominantOf({ t: 0, faces: 1, happy: 0.5, neutral: 0.5 } as ChartRow, EMO)).toBe('happy');
    expect(dominantOf({ t: 0, faces: 0, happy: null } as ChartRow, EMO)).toBeNull();
  });
});
