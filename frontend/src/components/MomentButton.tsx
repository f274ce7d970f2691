import type { ReactNode } from 'react';
import { useI18n } from '../i18n';
import { formatTime } from '../lib/format';

/** A moment of a list (a key moment, an audience peak, a difference): its time first; a click seeks there. */
export function MomentButton({ t, color, onSeek, label, children }: {
  t: number;
  /** The accent of its left edge. */
  color: string;
  onSeek: (t: number) => void;
  /** Its accessible name, when the visible text alone says too little. */
  label?: string;
  children: ReactNode;
}) {
  const { locale } = useI18n();
  return (
    <button type="button" className="moment" data-t={t} style={{ ['--accent' as string]: color }} onClick={() => onSeek(t)} aria-label={label}>
      <span className="moment-time">{formatTime(t, locale)}</span>
      {children}
    </button>
  );
}
