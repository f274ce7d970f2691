import { describe, expect, it } from 'vitest';
import { decimalSeparator, formatTick, formatTime } from '../src/lib/format';

describe('formatTime', () => {
  it('rounds to tenths before splitting minutes and hours', () => {
    expect(formatTime(9.96)).toBe('0:10.0');
    expect(formatTime(59.96)).toBe('1:00.0');
    expect(formatTime(59.94)).toBe('0:59.9');
    expect(formatTime(3599.96)).toBe('1:00:00.0');
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
