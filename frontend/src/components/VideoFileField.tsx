import type { ReactNode } from 'react';
import type { VideoFileChoice } from '../lib/useVideoFileChoice';

/**
 * The labelled file input of a form that sends one video (useVideoFileChoice), with its hint, whatever the
 * form shows of the chosen file (`children`), and its error announced, all wired through aria-describedby.
 */
export function VideoFileField({ id, label, hint, choice, onFile, children }: {
  id: string;
  label: string;
  hint?: string;
  choice: Pick<VideoFileChoice, 'inputRef' | 'error'>;
  onFile: (f: File | undefined) => void;
  children?: ReactNode;
}) {
  const { inputRef, error } = choice;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        type="file"
        accept="video/*"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        onChange={(e) => onFile(e.target.files?.[0])}
      />
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {children}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
