// Shared by the studies tests: fixture studies, viewers and audience curves as the API answers them
// (/work/notes/studies-contract.md), and a chart-friendly DOM (happy-dom lays nothing out).
import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import type { AudienceCurve, Study, Viewer } from '../../src/api/types';

export const STUDY_ID = 'e'.repeat(32);
export const VIEWER_1 = '1'.repeat(32);
export const VIEWER_2 = '2'.repeat(32);
export const VIEWER_3 = '3'.repeat(32);

export function study(overrides: Partial<Study> = {}): Study {
  return {
    id: STUDY_ID,
    title: 'Trailer A',
    content: { filename: 'trailer.mp4', content_type: 'video/mp4', size: 5000, duration: 3, uploaded: true },
    viewers: { total: 2, done: 2, processing: 0, failed: 0 },
    created_at: '2026-12-07T10:00:00+00:00',
    updated_at: '2026-12-07T10:00:00+00:00',
    ...overrides,
  };
}

export function viewer(overrides: Partial<Viewer> = {}): Viewer {
  return {
    id: VIEWER_1,
    label: 'Viewer 1',
    offset: 0,
    source: 'invite',
    status: 'done',
    progress: { done: 2, total: 2 },
    consent: { given: true, text_version: 'viewer-2026-12-07', language: 'es', recorded_at: '2026-12-07T10:05:00+00:00' },
    duration: 3.2,
    retryable: false,
    created_at: '2026-12-07T10:05:00+00:00',
    updated_at: '2026-12-07T10:06:00+00:00',
    ...overrides,
  };
}

const SERIES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral', 'attention', 'interest', 'boredom', 'confusion', 'smile'];

/**
 * An audience curve on a 0.5 s grid of a 3 s content (7 points): `happy` rises to a peak at 2 s with a band,
 * n is 2 except at t = 0 (one viewer: no band) and at the end (nobody: null). Every other series is flat.
 */
export function audience(overrides: Partial<AudienceCurve> = {}): AudienceCurve {
  const t = [0, 0.5, 1, 1.5, 2, 2.5, 3];
  const n = [1, 2, 2, 2, 2, 2, 0];
  const mean: Record<string, (number | null)[]> = {};
  const low: Record<string, (number | null)[]> = {};
  const high: Record<string, (number | null)[]> = {};
  for (const s of SERIES) {
    mean[s] = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, null];
    low[s] = [null, 0.05, 0.05, 0.05, 0.05, 0.05, null];
    high[s] = [null, 0.15, 0.15, 0.15, 0.15, 0.15, null];
  }
  mean.happy = [0.2, 0.3, 0.4, 0.6, 0.8, 0.5, null];
  low.happy = [null, 0.1, 0.2, 0.4, 0.65, 0.3, null];
  high.happy = [null, 0.5, 0.6, 0.8, 0.95, 0.7, null];
  return {
    study_id: STUDY_ID,
    duration: 3,
    step: 0.5,
    t,
    n,
    series: SERIES,
    mean,
    low,
    high,
    moments: [
      { series: 'happy', kind: 'peak', t: 2, value: 0.8, low: 0.65, high: 0.95, n: 2 },
      { series: 'sad', kind: 'dip', t: 0.5, value: 0.1, low: 0.05, high: 0.15, n: 2 },
    ],
    viewers: [
      { id: VIEWER_1, label: 'Viewer 1', offset: 0, status: 'done', included: true },
      { id: VIEWER_2, label: 'Viewer 2', offset: 0, status: 'done', included: true },
    ],
    viewers_included: 2,
    computed_at: '2026-12-07T10:10:00+00:00',
    ...overrides,
  };
}

/**
 * Gives every element a size (happy-dom lays nothing out, and Recharts' ResponsiveContainer draws nothing
 * in a 0x0 box). Returns the restore function.
 */
export function sizedLayout(width = 800, height = 300): () => void {
  const spy = vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(
    () => ({ x: 0, y: 0, top: 0, left: 0, right: width, bottom: height, width, height, toJSON: () => ({}) }) as DOMRect,
  );
  const props = ['offsetWidth', 'offsetHeight', 'clientWidth', 'clientHeight'] as const;
  const saved = props.map((p) => [p, Object.getOwnPropertyDescriptor(HTMLElement.prototype, p)] as const);
  for (const p of props) {
    Object.defineProperty(HTMLElement.prototype, p, { configurable: true, get: () => (p.endsWith('Width') ? width : height) });
  }
  return () => {
    spy.mockRestore();
    for (const [p, d] of saved) {
      if (d) Object.defineProperty(HTMLElement.prototype, p, d);
      else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[p];
    }
  };
}

/** Every test of the calling file in sizedLayout's box; unmounted and the layout restored after each. */
export function withSizedLayout() {
  let restore: () => void = () => undefined;
  beforeEach(() => {
    restore = sizedLayout();
  });
  afterEach(() => {
    cleanup();
    restore();
  });
}

/** A pointer event on a chart at (x, y) of its box (happy-dom has no pageX of its own). */
export function pointer(target: Element, type: 'mousemove' | 'click', x: number, y = 100) {
  const ev = new MouseEvent(type, { bubbles: true, clientX: x, clientY: y });
  Object.defineProperty(ev, 'pageX', { value: x });
  Object.defineProperty(ev, 'pageY', { value: y });
  target.dispatchEvent(ev);
}

/**
 * The x of content time `t` on an audience chart of `duration` s in sizedLayout's 800 px box: the plot runs
 * from x = 56 (the 56 px value axis, no left margin) to 16 px before the right edge.
 */
export const xAt = (t: number, duration = 3) => 56 + (t / duration) * 728;
