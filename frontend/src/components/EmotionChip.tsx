import { useCallback } from 'react';
import { useI18n, type MessageKey } from '../i18n';
import { REACTION_COLORS, emotionColor, isEmotion } from '../lib/emotions';

export function useEmotionLabel() {
  const { t } = useI18n();
  return useCallback(
    (label: string | null | undefined) =>
      label == null
        ? t('emotion.none')
        : isEmotion(label)
          ? t(`emotion.${label}` as MessageKey)
          : label in REACTION_COLORS
            ? t(`reaction.${label}` as MessageKey)
            : label,
    [t],
  );
}

export function EmotionChip({ label }: { label: string | null | undefined }) {
  const name = useEmotionLabel();
  return (
    <span className="chip" style={{ ['--chip' as string]: emotionColor(label) }}>
      <span className="chip-dot" aria-hidden="true" />
      {name(label)}
    </span>
  );
}
