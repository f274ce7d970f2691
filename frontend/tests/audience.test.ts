import { describe, expect, it } from 'vitest';
import type { Comparison } from '../src/api/types';
import {
  audienceRows,
  bandKey,
  compareRows,
  countAt,
  countKey,
  groupSeries,
  hasReactionSeries,
  largestDifferences,
  viewerKey,
} from '../src/lib/audience';
import { cameraProblem, pickRecordingType, uploadType } from '../src/lib/recording';
import { parseOffset } from '../src/components/study/AddViewer';
import { audience } from './support/studies';

describe('audience rows', () => {
  it('per series: the mean, the band as a [low, high] pair (null without one), n; a gap stays a gap', () => {
    const rows = audienceRows(audience(), ['happy', 'sad']);
    expect(rows.map((r) => r.t)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
    expect(rows[4]).toMatchObject({ t: 2, n: 2, happy: 0.8, [bandKey('happy')]: [0.65, 0.95], [countKey('happy')]: 2, sad: 0.1 });
    // n = 1 at t = 0: a mean but no band; n = 0 at the end: nothing.
    expect(rows[0]).toMatchObject({ happy: 0.2, [bandKey('happy')]: null, [countKey('happy')]: 1 });
    expect(rows[6]).toMatchObject({ happy: null, [bandKey('happy')]: null, [countKey('happy')]: 0, n: 0 });
    expect(Object.keys(rows[0])).not.toContain('angry');
  });

  it('a series with its own n (n_by_series) uses it; the others use the top-level n', () => {
    const curve = audience({ n_by_series: { attention: [1, 1, 1, 1, 1, 1, 0] } });
    expect(countAt(curve, 'attention', 3)).toBe(1);
    expect(countAt(curve, 'happy', 3)).toBe(2);
    const rows = audienceRows(curve, ['attention', 'happy']);
    expect(rows[3][countKey('attention')]).toBe(1);
    expect(rows[3][countKey('happy')]).toBe(2);
  });

  it("puts a drilled-down viewer's values on the audience grid, by time when the grids differ", () => {
    const same = audienceRows(audience(), ['happy'], { t: [0, 0.5, 1, 1.5, 2, 2.5, 3], values: { happy: [0.9, 0.8, null, 0.6, 0.5, 0.4, null] } });
    expect(same.map((r) => r[viewerKey('happy')])).toEqual([0.9, 0.8, null, 0.6, 0.5, 0.4, null]);
    const shifted = audienceRows(audience(), ['happy'], { t: [1, 2], values: { happy: [0.3, 0.7] } });
    expect(shifted.map((r) => r[viewerKey('happy')])).toEqual([null, null, 0.3, null, 0.7, null, null]);
  });

  it('groups: the expressions, or attention and the reactions, in that order, when the curve has them', () => {
    expect(groupSeries(audience(), 'expressions')).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    expect(groupSeries(audience(), 'reactions')).toEqual(['attention', 'interest', 'boredom', 'confusion', 'smile']);
    const old = audience({ series: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] });
    expect(hasReactionSeries(old)).toBe(false);
    expect(hasReactionSeries(audience())).toBe(true);
  });
});

describe('comparison rows', () => {
  const a = audience();
  const b = audience({ n: [2, 2, 2, 2, 0, 0, 0] });
  b.mean = { ...b.mean, happy: [0.2, 0.2, 0.2, 0.2, null, null, null] };
  const cmp: Comparison = {
    t: a.t,
    a,
    b,
    difference: { happy: [0, 0.1, 0.2, 0.4, null, null, null] },
  };

  it('two layers (a, b) of one series with their bands and n, and the difference', () => {
    const rows = compareRows(cmp, 'happy');
    expect(rows[3]).toMatchObject({ t: 1.5, a: 0.6, b: 0.2, diff: 0.4, [countKey('a')]: 2, [countKey('b')]: 2 });
    expect(rows[3][bandKey('a')]).toEqual([0.4, 0.8]);
    expect(rows[4]).toMatchObject({ a: 0.8, b: null, diff: null, [countKey('b')]: 0 });
  });

  it('lists the largest differences, strongest first, at least 5 s apart', () => {
    const rows = compareRows(cmp, 'happy');
    expect(largestDifferences(rows, 3, 5)).toEqual([{ t: 1.5, diff: 0.4, a: 0.6, b: 0.2 }]);
    expect(largestDifferences(rows, 3, 0.5).map((d) => d.t)).toEqual([1.5, 1, 0.5]);
  });
});

describe('recording helpers', () => {
  it('records in the first supported type: VP9, then VP8, then plain WebM, else lets the browser choose', () => {
    expect(pickRecordingType(() => true)).toBe('video/webm;codecs=vp9');
    expect(pickRecordingType((t) => t !== 'video/webm;codecs=vp9')).toBe('video/webm;codecs=vp8');
    expect(pickRecordingType((t) => t === 'video/webm')).toBe('video/webm');
    expect(pickRecordingType(() => false)).toBeNull();
    expect(pickRecordingType(() => { throw new Error('no'); })).toBeNull();
  });

  it('announces the container without its codecs', () => {
    expect(uploadType('video/webm;codecs=vp9')).toBe('video/webm');
    expect(uploadType('video/mp4; codecs="avc1"')).toBe('video/mp4');
    expect(uploadType('')).toBe('video/webm');
    expect(uploadType('audio/ogg')).toBe('video/webm');
  });

  it('tells a refused camera from a missing one', () => {
    expect(cameraProblem(Object.assign(new Error('x'), { name: 'NotAllowedError' }))).toBe('refused');
    expect(cameraProblem(Object.assign(new Error('x'), { name: 'SecurityError' }))).toBe('refused');
    expect(cameraProblem(Object.assign(new Error('x'), { name: 'NotFoundError' }))).toBe('unavailable');
    expect(cameraProblem(Object.assign(new Error('x'), { name: 'NotReadableError' }))).toBe('unavailable');
    expect(cameraProblem('weird')).toBe('unavailable');
  });

  it('reads an offset in seconds with either decimal separator, negative allowed', () => {
    expect(parseOffset('0')).toBe(0);
    expect(parseOffset(' 2,5 ')).toBe(2.5);
    expect(parseOffset('-1.25')).toBe(-1.25);
    expect(parseOffset('')).toBeNull();
    expect(parseOffset('1e3')).toBeNull();
    expect(parseOffset('abc')).toBeNull();
  });
});
