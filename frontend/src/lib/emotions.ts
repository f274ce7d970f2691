import type { Emotion } from '../api/types';
// One palette for the web app and the command line's HTML report (chalicelib/engine/report.py).
import palette from '../../../chalicelib/engine/palette.json';

export const EMOTIONS: Emotion[] = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** Colour of "no face" / unknown (3.7:1 on white). */
const NONE_COLOR = palette.none;

/** One colour per emotion (each ≥ 3:1 on white), used by every chart, chip and legend. */
export const EMOTION_COLORS: Record<string, string> = palette.emotions;

/** The reactions view's colours (each >= 3:1 on white), apart from the emotions'. */
export const REACTION_COLORS: Record<string, string> = palette.reactions;

export function emotionColor(label: string | null | undefined): string {
  return (label && (EMOTION_COLORS[label] ?? REACTION_COLORS[label])) || NONE_COLOR;
}

export function isEmotion(label: unknown): label is Emotion {
  return typeof label === 'string' && (EMOTIONS as string[]).includes(label);
}
