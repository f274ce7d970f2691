import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, uploadWithProgress, type ApiClient } from '../api/client';
import type { ConsentGiven, Video } from '../api/types';
import { useLeaveWarning } from './useLeaveWarning';
import { fileProblem, videoContentType, type FileProblem } from './videoFile';

/** Sends a file with the presigned POST of POST /videos (injectable so tests need no network). */
export type Uploader = typeof uploadWithProgress;

export type Backend = 'onnx' | 'rekognition';

export interface UploadRequest {
  title: string;
  backend: Backend;
  /** The statement the uploader accepted for the people filmed (POST /videos refuses an upload without). */
  consent: ConsentGiven;
}

export interface UploadHooks {
  /** The API created the record (shown at once in the history). */
  onCreated?: (v: Video) => void;
  /** The file never reached storage and its record was deleted again. */
  onRemoved?: (id: string) => void;
  uploader?: Uploader;
}

/**
 * The upload of one file: choose (checked against type and size), create the record, send the file to S3
 * with progress, cancel. On success `created` is the queued video, for the caller to poll. A failed or
 * cancelled send deletes the record, so no video stays "waiting for upload".
 */
export function useUpload(client: ApiClient, maxUploadBytes: number | null, hooks: UploadHooks = {}) {
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;
  const abortRef = useRef<AbortController | null>(null);
  const [file, setFile] = useState<File | null>(null);
  /** Why no file is ready: a wrong type or size (with the refused file's size), or none chosen yet. */
  const [problem, setProblem] = useState<{ kind: FileProblem | 'needFile'; size?: number } | null>(null);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Video | null>(null);

  // Leaving the page mid-upload would lose it: ask the browser to warn.
  useLeaveWarning(progress != null);

  useEffect(() => () => abortRef.current?.abort(), []);

  /** Takes a chosen or dropped file; returns whether it can be uploaded. */
  const choose = useCallback(
    (f: File | null | undefined): boolean => {
      setError(null);
      if (!f) return false;
      const p = fileProblem(f, maxUploadBytes);
      setProblem(p ? { kind: p, size: f.size } : null);
      setFile(p ? null : f);
      return p == null;
    },
    [maxUploadBytes],
  );

  const start = useCallback(
    async (req: UploadRequest): Promise<void> => {
      setError(null);
      if (!file) {
        setProblem({ kind: 'needFile' });
        return;
      }
      const abort = new AbortController();
      abortRef.current = abort;
      setProgress({ loaded: 0, total: file.size });
      let videoId: string | null = null;
      try {
        const res = await client.createVideo({
          filename: file.name,
          content_type: videoContentType(file) ?? 'video/mp4',
          size: file.size,
          title: req.title.trim() || undefined,
          backend: req.backend,
          consent: req.consent,
        });
        videoId = res.video.id;
        if (abort.signal.aborted) throw new ApiError('upload_aborted', 'the upload was cancelled');
        hooksRef.current.onCreated?.(res.video);
        const send = hooksRef.current.uploader ?? uploadWithProgress;
        await send(res.upload, file, (loaded, total) => setProgress({ loaded, total }), abort.signal);
        videoId = null;
        setProgress(null);
        setCreated({ ...res.video, status: res.video.status === 'pending_upload' ? 'queued' : res.video.status });
      } catch (err) {
        setProgress(null);
        setError(err);
        if (videoId) {
          const id = videoId;
          client.deleteVideo(id).then(() => hooksRef.current.onRemoved?.(id), () => undefined);
        }
      } finally {
        abortRef.current = null;
      }
    },
    [client, file],
  );

  const cancel = useCallback(() => abortRef.current?.abort(), []);

  const reset = useCallback(() => {
    setCreated(null);
    setFile(null);
    setProblem(null);
    setError(null);
  }, []);

  return { file, problem, choose, start, cancel, reset, progress, error, created, setCreated };
}
