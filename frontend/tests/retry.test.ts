import { describe, expect, it } from 'vitest';
import type { Video } from '../src/api/types';
import { canRetry } from '../src/components/VideoProgress';

const base: Video = {
  id: '0'.repeat(32),
  title: 't',
  filename: 't.mp4',
  content_type: 'video/mp4',
  size: 1,
  backend: 'onnx',
  status: 'failed',
  progress: { done: 0, total: 0 },
  duration: null,
  created_at: '2026-01-01T00:00:00+00:00',
  updated_at: '2026-01-01T00:00:00+00:00',
  retryable: true,
};

describe('when "try again" is offered', () => {
  it('offers it for failures a retry can fix, not for a file that is not a video', () => {
    expect(canRetry({ ...base, error_code: 'service_unavailable' })).toBe(true);
    expect(canRetry({ ...base, error_code: 'unreadable_video', retryable: false })).toBe(false);
  });

  it('offers it for an analysis that stopped making progress, not for one that is moving', () => {
    expect(canRetry({ ...base, status: 'processing', stalled: true })).toBe(true);
    expect(canRetry({ ...base, status: 'processing', retryable: false })).toBe(false);
    expect(canRetry({ ...base, status: 'done', retryable: false })).toBe(false);
  });
});
