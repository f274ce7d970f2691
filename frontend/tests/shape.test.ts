import { describe, expect, it } from 'vitest';
import type { Analysis, Stats } from '../src/api/types';
import { formatDate, formatDay, formatDuration, formatLongDuration, formatPercent, formatSigned, formatTick, formatTime, timeTicks } from '../src/lib/format';
import { analysisToReactionRows, analysisToRows, distributionData, hasReactions, statsToChartData } from '../src/lib/shape';
import { nearestRow } from '../src/lib/downsample';

const LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const emo = (happy: number, neutral: number) => ({ angry: 0, disgust: 0, fear: 0, happy, sad: 0, surprise: 0, neutral });

const analysis: Analysis = {
  format: 1,
  video: { duration: 1.0, fps: 30, width: 640, height: 480, rotation: 0, codec: 'h264' },
  labels: LABELS,
  timeline: [
    { t: 0.0, faces: 1, emotions: emo(0.1, 0.9) },
    { t: 0.2, faces: 2, emotions: emo(0.5, 0.5) },
    { t: 0.4, faces: 0 },
    { t: 0.6, faces: 1, emotions: emo(0.8, 0.2) },
  ],
  faces: [
    { id: 0, first_t: 0.0, last_t: 0.2, timeline: [
      { t: 0.0, emotions: emo(0.1, 0.9), box: [1, 2, 3, 4] },
      { t: 0.2, emotions: emo(0.2, 0.8), box: [1, 2, 3, 4] },
    ] },
    { id: 3, first_t: 0.2, last_t: 0.6, timeline: [
      { t: 0.2, emotions: emo(0.8, 0.2), box: [5, 6, 7, 8] },
      { t: 0.6000000001, emotions: emo(0.8, 0.2), box: [5, 6, 7, 8] },
    ] },
  ],
  summary: { dominant: 'happy', distribution: { ...emo(0.47, 0.53) }, face_presence: 0.75, valence: 0.47, expressiveness: 0.47, key_moments: [{ t: 0.6, label: 'happy', score: 0.8 }] },
  model: { backend: 'onnx', version: 'v', detector: 'haar', sample_fps: 5 },
  segments: 1,
};

describe('analysisToRows', () => {
  it('mean over faces: one row per sample with every label and the face count, null without a face', () => {
    const rows = analysisToRows(analysis, 'mean');
    expect(rows).toHaveLength(4);
    expect(rows[1]).toEqual({ t: 0.2, faces: 2, ...emo(0.5, 0.5) });
    expect(rows[2].faces).toBe(0);
    for (const l of LABELS) expect(rows[2][l]).toBeNull();
  });

  it('one face: its own emotions on the full time grid, null outside its track', () => {
    const rows = analysisToRows(analysis, 3);
    expect(rows.map((r) => r.t)).toEqual([0, 0.2, 0.4, 0.6]);
    expect(rows[0].happy).toBeNull();
    expect(rows[1]).toMatchObject({ t: 0.2, faces: 2, happy: 0.8, neutral: 0.2 });
    expect(rows[2].happy).toBeNull();
    expect(rows[3]).toMatchObject({ faces: 1, happy: 0.8 }); // matched despite float noise in t
    const first = analysisToRows(analysis, 0);
    expect(first[1].happy).toBe(0.2);
    expect(first[3].happy).toBeNull();
  });

  it('an unknown face gives no rows; nearestRow finds the nearest sample', () => {
    expect(analysisToRows(analysis, 42)).toEqual([]);
    expect(nearestRow(analysisToRows(analysis), 0.55)?.t).toBe(0.6);
  });
});

describe('stats and distributions', () => {
  const stats: Stats = {
    videos: 3,
    total_duration: 75,
    distribution: { ...emo(0.3, 0.6), sad: 0.1 },
    averages: { valence: 0.2, expressiveness: 0.4, face_presence: 0.9 },
    dominant_per_video: [
      { id: 'a', title: 'A', created_at: '2026-11-30T10:00:00Z', duration: 10, dominant: 'happy', valence: 0.5 },
      { id: 'b', title: 'B', created_at: '2026-11-29T10:00:00Z', duration: 20, dominant: 'neutral', valence: 0 },
      { id: 'c', title: 'C', created_at: '2026-11-20T10:00:00Z', duration: 45, dominant: 'happy', valence: 0.1 },
      { id: 'd', title: 'D', created_at: null, duration: null, dominant: null, valence: null },
    ],
    weekly: [
      { week: '2026-11-30', videos: 1, duration: 10, valence: 0.5, expressiveness: 0.5 },
      { week: '2026-11-16', videos: 2, duration: 65, valence: 0.1, expressiveness: 0.3 },
    ],
    cached: false,
  };

  it('orders the distribution by emotion and fills missing labels with 0', () => {
    expect(distributionData({ happy: 0.4, neutral: 0.6 }).map((d) => [d.label, d.value])).toEqual([
      ['angry', 0], ['disgust', 0], ['fear', 0], ['happy', 0.4], ['sad', 0], ['surprise', 0], ['neutral', 0.6],
    ]);
  });

  it('shapes stats into chart data', () => {
    const data = statsToChartData(stats);
    expect(data.distribution.find((d) => d.label === 'sad')?.value).toBe(0.1);
    expect(data.dominantCounts).toEqual([
      { label: 'happy', count: 2 },
      { label: 'neutral', count: 1 },
      { label: 'none', count: 1 },
    ]);
    expect(data.weekly.map((w) => w.week)).toEqual(['2026-11-16', '2026-11-30']);
    expect(data.perVideo).toHaveLength(4);
  });
});

describe('formatting', () => {
  it('durations and moments', () => {
    expect(formatDuration(3.003)).toBe('0:03');
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(null)).toBe('—');
    expect(formatTime(2.8)).toBe('0:02.8');
    expect(formatTime(71.25)).toBe('1:11.2'); // cut, never rounded up (the duration rule, format.ts)
    expect(formatLongDuration(75, 'en')).toBe('1 min 15 s');
    expect(formatLongDuration(3723, 'es')).toBe('1 h 02 min');
  });

  it('time axis ticks are round', () => {
    expect(timeTicks(3.003)).toEqual([0, 1, 2, 3]);
    expect(timeTicks(2.4)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(timeTicks(11.8)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(formatTick(2)).toBe('0:02');
    expect(formatTick(1.5)).toBe('0:01.5');
  });

  it('dates per locale', () => {
    const iso = '2026-11-30T13:04:24.045Z';
    const en = formatDate(iso, 'en');
    const es = formatDate(iso, 'es');
    expect(en).toMatch(/Nov 30, 2026/);
    expect(es).toMatch(/30 nov 2026/);
    expect(formatDate('not a date', 'en')).toBe('—');
    expect(formatDay('2026-11-30', 'en')).toBe('Nov 30');
    expect(formatDay('2026-11-30', 'es')).toBe('30 nov');
  });

  it('numbers per locale', () => {
    expect(formatPercent(0.4428, 'en')).toBe('44%');
    expect(formatPercent(0.4428, 'es')).toBe('44\u00a0%');
    expect(formatPercent(0.4428, 'en', 1)).toBe('44.3%');
    expect(formatPercent(0.4428, 'es', 1)).toBe('44,3\u00a0%');
    expect(formatSigned(0.2016, 'en')).toBe('+0.20');
    expect(formatSigned(-0.5, 'es')).toBe('-0,50');
    expect(formatSigned(null, 'es')).toBe('—');
  });
});

describe('the reactions view', () => {
  const analysis = {
    format: 2,
    video: { duration: 0.4, fps: 30, width: 64, height: 64, rotation: 0, codec: 'h264' },
    labels: ['happy', 'neutral'],
    timeline: [
      { t: 0, faces: 1, emotions: { happy: 0.8, neutral: 0.2 }, attention: 1, reactions: { interest: 0.7, boredom: 0, confusion: 0.1, smile: 0.9 } },
      { t: 0.2, faces: 0 },
    ],
    faces: [
      {
        id: 3,
        first_t: 0,
        last_t: 0,
        timeline: [{ t: 0, emotions: { happy: 0.8, neutral: 0.2 }, box: [0, 0, 1, 1], attention: false, reactions: { interest: 0, boredom: 0.5, confusion: 0, smile: 0.2 } }],
      },
    ],
    summary: { dominant: 'happy', distribution: {}, face_presence: 0.5, valence: 0, expressiveness: 0, key_moments: [] },
    model: { backend: 'onnx', version: 'x', detector: 'blazeface', sample_fps: 5 },
    segments: 1,
  } as unknown as Analysis;

  it('charts the mean reactions and attention, null where no face is', () => {
    expect(hasReactions(analysis)).toBe(true);
    const rows = analysisToReactionRows(analysis);
    expect(rows[0]).toMatchObject({ t: 0, faces: 1, interest: 0.7, smile: 0.9, attention: 1 });
    expect(rows[1]).toMatchObject({ t: 0.2, faces: 0, interest: null, attention: null });
  });

  it('charts one face, its attention as 0 or 1', () => {
    const rows = analysisToReactionRows(analysis, 3);
    expect(rows[0]).toMatchObject({ boredom: 0.5, attention: 0 });
    expect(rows[1].boredom).toBeNull();
  });

  it('has no reactions view for a format-1 analysis', () => {
    expect(hasReactions({ ...analysis, timeline: [{ t: 0, faces: 0 }] } as Analysis)).toBe(false);
  });
});
