import { describe, expect, it } from 'vitest';
import { ApiError, s3ErrorCode, uploadErrorCode } from '../src/api/client';
import { backoffMs, isFatalPollError } from '../src/lib/usePollVideo';

describe('S3 upload errors', () => {
  it("reads S3's XML <Code> and maps it to a message code", () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Invalid according to Policy</Message></Error>';
    expect(s3ErrorCode(xml)).toBe('AccessDenied');
    expect(s3ErrorCode('')).toBeNull();
    expect(s3ErrorCode(null)).toBeNull();
    expect(uploadErrorCode('AccessDenied')).toBe('upload_denied');
    expect(uploadErrorCode('ExpiredToken')).toBe('upload_expired');
    expect(uploadErrorCode('EntityTooLarge')).toBe('upload_too_large');
    expect(uploadErrorCode('SlowDown')).toBe('upload_failed');
    expect(uploadErrorCode(null)).toBe('upload_failed');
  });
});

describe('polling', () => {
  it('backs off exponentially from 1 s to at most 10 s', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => backoffMs(n))).toEqual([1000, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('stops on 401 and 404 only', () => {
    expect(isFatalPollError(new ApiError('unauthorized', 'x', 401))).toBe(true);
    expect(isFatalPollError(new ApiError('not_found', 'x', 404))).toBe(true);
    expect(isFatalPollError(new ApiError('unavailable', 'x', 503))).toBe(false);
    expect(isFatalPollError(new ApiError('network', 'x', 0))).toBe(false);
  });
});
