import { describe, expect, it } from 'vitest';
import { decimalSeparator, formatDuration, formatLongDuration, formatTick, formatTime, truncateTime } from '../src/lib/format';

describe('formatTime', () => {
  it('cuts to tenths (never rounds up) before splitting minutes and hours', () => {
    expect(formatTime(9.96)).toBe('0:09.9');
    expect(formatTime(59.96)).toBe('0:59.9');
    expect(formatTime(59.94)).toBe('0:59.9');
    expect(formatTime(60)).toBe('1:00.0');
    expect(formatTime(3599.96)).toBe('59:59.9');
    expect(formatTime(3600)).toBe('1:00:00.0');
    expect(formatTime(0.1 * 3)).toBe('0:00.3'); // 0.1 * 3 is 0.30000000000000004; times summed from a step can land just under
    expect(formatTime(0.7 - 0.4)).toBe('0:00.3'); // 0.29999999999999993 is 0.3, not cut to 0.2
    expect(formatTime(3725.2)).toBe('1:02:05.2');
    expect(formatTime(0)).toBe('0:00.0');
    expect(formatTime(-3)).toBe('0:00.0');
  });

  it("uses the locale's decimal separator", () => {
    expect(decimalSeparator('en')).toBe('.');
    expect(decimalSeparator('es')).toBe(',');
    expect(formatTime(2.8, 'en')).toBe('0:02.8');
    expect(formatTime(2.8, 'es')).toBe('0:02,8');
    expect(formatTime(3725.2, 'es')).toBe('1:02:05,2');
    expect(formatTick(1.5, 'es')).toBe('0:01,5');
    expect(formatTick(2, 'es')).toBe('0:02');
  });
});

describe('the duration rule: cut to the unit shown, as video players do', () => {
  it('shows a 33.6 s video as 0:33, as the browser player does, not 0:34', () => {
    expect(formatDuration(33.6)).toBe('0:33');
    expect(formatDuration(33.999)).toBe('0:33');
    expect(formatDuration(34)).toBe('0:34');
    expect(formatDuration(59.9)).toBe('0:59');
    expect(formatDuration(3599.9)).toBe('59:59');
    expect(formatDuration(3600)).toBe('1:00:00');
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
  });

  it('a moment inside a video never reads later than the video ends', () => {
    for (const d of [3.003, 11.8, 17.05, 33.6, 59.99, 3725.96]) {
      const whole = formatDuration(d);
      const moment = formatTime(d, 'en');
      expect(moment.startsWith(whole)).toBe(true);
    }
  });

  it('applies to long durations and to the helper', () => {
    expect(formatLongDuration(75.9, 'en')).toBe('1 min 15 s');
    expect(formatLongDuration(59.9, 'en')).toBe('59 s');
    expect(formatLongDuration(3599.5, 'en')).toBe('59 min 59 s');
    expect(truncateTime(1.15, 10)).toBe(11);
    expect(truncateTime(0.7, 10)).toBe(7);
    expect(truncateTime(-2)).toBe(0);
    expect(truncateTime(Number.POSITIVE_INFINITY)).toBe(0);
  });
});
