import { useEffect, useState } from 'react';

/**
 * A progress bar with its text. Screen readers hear the text only when `phase` changes or the bar crosses a
 * 25 % step, not on every progress event (the visible text still updates live).
 */
export function ProgressBar({ value, max, label, text, phase }: { value: number; max: number; label: string; text: string; phase: string }) {
  const pct = max > 0 ? Math.min(100, Math.max(0, (value / max) * 100)) : 0;
  const step = Math.floor(pct / 25);
  const [spoken, setSpoken] = useState(text);
  useEffect(() => {
    setSpoken(text);
    // `text` is deliberately not a dependency: announce only at a new phase or a new 25 % step.
  }, [phase, step]);
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max || 100}
        aria-valuenow={max > 0 ? value : undefined}
        aria-valuetext={text}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <p className="progress-text" aria-hidden="true">
        {text}
      </p>
      <p className="sr-only" aria-live="polite">
        {spoken}
      </p>
    </div>
  );
}
