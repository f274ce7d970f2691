import type { Emotion } from '../api/types';

export const EMOTIONS: Emotion[] = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** Colour of "no face" / unknown (3.7:1 on white). */
const NONE_COLOR = '#7b8794';

/** One colour per emotion (each ≥ 3:1 on white), used by every chart, chip and legend. */
export const EMOTION_COLORS: Record<string, string> = {
  angry: '#d9534f',
  disgust: '#6f9a3d',
  fear: '#8464c4',
  happy: '#b57a00',
  sad: '#3f7fc9',
  surprise: '#e0679f',
  neutral: '#8a96a3',
};

/** The reactions view's colours (each >= 3:1 on white), apart from the emotions'. */
export const REACTION_COLORS: Record<string, string> = {
  interest: '#1f7a6d',
  boredom: '#8a6d3b',
  confusion: '#7d4fb3',
  smile: '#b57a00',
  attention: '#2f6db5',
};

export function emotionColor(label: string | null | undefined): string {
  return (label && (EMOTION_COLORS[label] ?? REACTION_COLORS[label])) || NONE_COLOR;
}

export function isEmotion(label: unknown): label is Emotion {
  return typeof label === 'string' && (EMOTIONS as string[]).includes(label);
}
