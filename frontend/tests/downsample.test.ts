import { describe, expect, it } from 'vitest';
import { downsampleRows, nearestRow } from '../src/lib/downsample';
import type { ChartRow } from '../src/lib/shape';

const LABELS = ['happy', 'neutral'];
const rowsOf = (n: number, f: (i: number) => Partial<ChartRow> = () => ({})): ChartRow[] =>
  Array.from({ length: n }, (_, i) => ({ t: i / 10, faces: 1, happy: 0.1, neutral: 0.9, ...f(i) }) as ChartRow);

describe('downsampleRows', () => {
  it('returns the same array when the rows already fit', () => {
    const rows = rowsOf(100);
    expect(downsampleRows(rows, LABELS, 100)).toBe(rows);
    expect(downsampleRows(rows, LABELS, 500)).toBe(rows);
  });

  it('cuts a long series to at most maxPoints rows, in time order, spanning the whole video', () => {
    const rows = rowsOf(36_000); // one hour at 10 samples/s
    const out = downsampleRows(rows, LABELS, 2400);
    expect(out.length).toBeLessThanOrEqual(2400);
    expect(out.length).toBeGreaterThan(2300);
    for (let i = 1; i < out.length; i++) expect(out[i].t).toBeGreaterThan(out[i - 1].t);
    expect(out[0].t).toBeLessThan(1);
    expect(out[out.length - 1].t).toBeGreaterThan(3598);
    // every bucket's time is a real sample's time
    const times = new Set(rows.map((r) => r.t));
    for (const r of out) expect(times.has(r.t)).toBe(true);
  });

  it('keeps the maximum of each series in a bucket, so a one-sample peak survives', () => {
    const rows = rowsOf(10_000, (i) => (i === 5_001 ? { happy: 0.97, neutral: 0.03, faces: 3 } : {}));
    const out = downsampleRows(rows, LABELS, 100);
    expect(Math.max(...out.map((r) => r.happy as number))).toBe(0.97);
    expect(Math.max(...out.map((r) => r.faces))).toBe(3);
    expect(out.filter((r) => r.happy === 0.97)).toHaveLength(1);
    expect(Math.min(...out.map((r) => r.neutral as number))).toBe(0.9); // max of neutral in that bucket is 0.9
  });

  it('keeps null only where a series is null throughout the bucket', () => {
    const rows = rowsOf(1000, (i) => (i < 500 ? { happy: null, neutral: null, faces: 0 } : i === 505 ? { happy: null } : {}));
    const out = downsampleRows(rows, LABELS, 10);
    expect(out).toHaveLength(10);
    expect(out.slice(0, 5).every((r) => r.happy === null && r.neutral === null && r.faces === 0)).toBe(true);
    expect(out.slice(5).every((r) => r.happy === 0.1 && r.neutral === 0.9)).toBe(true);
  });
});

describe('nearestRow', () => {
  it('finds the sample nearest to a time by binary search', () => {
    const rows = rowsOf(1000);
    expect(nearestRow(rows, 12.34)?.t).toBe(12.3);
    expect(nearestRow(rows, -5)?.t).toBe(0);
    expect(nearestRow(rows, 1e6)?.t).toBe(99.9);
    expect(nearestRow([], 1)).toBeUndefined();
  });
});

describe('downsampleRows with averaged series', () => {
  it('averages the named series (stacked shares still add up to 1) and keeps the peak of the others', () => {
    const rows = rowsOf(1000, (i) => (i % 2 ? { happy: 0.3, neutral: 0.7 } : { happy: 0.1, neutral: 0.9 }));
    const out = downsampleRows(rows, LABELS, 10, LABELS);
    for (const r of out) {
      expect(r.happy).toBeCloseTo(0.2, 10);
      expect((r.happy as number) + (r.neutral as number)).toBeCloseTo(1, 10);
    }
    const peaks = downsampleRows(rows, LABELS, 10, ['neutral']);
    expect(peaks.every((r) => r.happy === 0.3 && Math.abs((r.neutral as number) - 0.8) < 1e-9)).toBe(true);
  });

  it('a signed series keeps its dips: the mean, not the maximum, and null only where all are null', () => {
    const rows = rowsOf(1000, (i) => ({ valence: i < 100 ? null : i % 2 ? -0.8 : 0.2 }));
    const out = downsampleRows(rows, ['valence'], 10, ['valence']);
    expect(out[0].valence).toBeNull();
    expect(out.slice(1).every((r) => Math.abs((r.valence as number) + 0.3) < 1e-9)).toBe(true);
  });
});
