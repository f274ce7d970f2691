import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, uploadWithProgress } from '../api/client';
import type { PresignedPost } from '../api/types';
import type { Uploader } from './useUpload';
import { useLeaveWarning } from './useLeaveWarning';

/** What `send` needs: make the record (answering its presigned POST), and undo it if the file never arrives. */
export interface SendPlan<R> {
  create: () => Promise<R & { upload: PresignedPost }>;
  /** Called when the file did not reach storage after `create` succeeded (delete the record again). */
  undo?: (created: R) => Promise<unknown>;
}

/**
 * One file sent to storage with progress, the way useUpload sends a video (the same uploadWithProgress,
 * cancel, leave warning), for any record the API creates with a presigned POST: a study's content, a viewer
 * recording, an invited viewer's recording. Resolves to the created record, or null when it failed (then
 * `error` says why and `undo` has been asked to remove the record).
 */
export function useSend(uploader?: Uploader) {
  const abortRef = useRef<AbortController | null>(null);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useLeaveWarning(progress != null);
  useEffect(() => () => abortRef.current?.abort(), []);

  const send = useCallback(
    async <R,>(file: Blob, plan: SendPlan<R>): Promise<R | null> => {
      setError(null);
      const abort = new AbortController();
      abortRef.current = abort;
      setProgress({ loaded: 0, total: file.size });
      let created: (R & { upload: PresignedPost }) | null = null;
      try {
        created = await plan.create();
        if (abort.signal.aborted) throw new ApiError('upload_aborted', 'the upload was cancelled');
        await (uploader ?? uploadWithProgress)(created.upload, file, (loaded, total) => setProgress({ loaded, total }), abort.signal);
        return created;
      } catch (e) {
        setError(e);
        if (created && plan.undo) plan.undo(created).catch(() => undefined);
        return null;
      } finally {
        setProgress(null);
        abortRef.current = null;
      }
    },
    [uploader],
  );

  const cancel = useCallback(() => abortRef.current?.abort(), []);
  const clearError = useCallback(() => setError(null), []);
  return { send, cancel, progress, error, clearError };
}
