import { useCallback, useRef, useState } from 'react';
import { useClient } from '../auth';
import { useI18n } from '../i18n';
import { formatBytes } from './format';
import { fileProblem, type FileProblem } from './videoFile';

/** Why a file cannot be sent, in words: not a video, over the API's limit (/config.json), or none chosen. */
export function useFileProblemText() {
  const client = useClient();
  const { t, locale } = useI18n();
  const maxBytes = client.limits.maxUploadBytes;
  return useCallback(
    (kind: FileProblem | 'needFile', size = 0): string => {
      if (kind === 'notVideo') return t('upload.notVideo');
      if (kind === 'needFile') return t('upload.needFile');
      return t('upload.tooLarge', { size: formatBytes(size, locale), limit: formatBytes(maxBytes ?? 0, locale) });
    },
    [t, locale, maxBytes],
  );
}

/**
 * The video file picked in a form (a study's content, a viewer recording): checked at once against type
 * and size, kept when it can be sent, else its reason in words and the input cleared. `inputRef` goes on
 * the file input (VideoFileField).
 */
export function useVideoFileChoice() {
  const client = useClient();
  const problemText = useFileProblemText();
  const inputRef = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const maxBytes = client.limits.maxUploadBytes;

  const clearInput = useCallback(() => {
    if (inputRef.current) inputRef.current.value = '';
  }, []);

  /** Takes the picked file; returns it when it can be sent. */
  const choose = useCallback(
    (f: File | undefined): File | null => {
      setFile(null);
      setError(null);
      if (!f) return null;
      const problem = fileProblem(f, maxBytes);
      if (problem) {
        setError(problemText(problem, f.size));
        clearInput();
        return null;
      }
      setFile(f);
      return f;
    },
    [maxBytes, problemText, clearInput],
  );

  /** Forgets the file (sent, or found unusable later: `reason`), and empties the input. */
  const clear = useCallback(
    (reason: string | null = null) => {
      setFile(null);
      setError(reason);
      clearInput();
    },
    [clearInput],
  );

  /** Submitted without a file: say so and take the person to the input. */
  const askForFile = useCallback(() => {
    setError(problemText('needFile'));
    inputRef.current?.focus();
  }, [problemText]);

  return { inputRef, file, error, choose, clear, askForFile };
}

export type VideoFileChoice = ReturnType<typeof useVideoFileChoice>;
