import type { Emotion } from '../api/types';

export const EMOTIONS: Emotion[] = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** One colour per emotion, used by every chart, chip and legend. */
export const EMOTION_COLORS: Record<string, string> = {
  angry: '#d9534f',
  disgust: '#6f9a3d',
  fear: '#8464c4',
  happy: '#e8a317',
  sad: '#3f7fc9',
  surprise: '#e0679f',
  neutral: '#8a96a3',
};

export function emotionColor(label: string | null | undefined): string {
  return (label && EMOTION_COLORS[label]) || '#b8c1cc';
}

export function isEmotion(label: unknown): label is Emotion {
  return typeof label === 'string' && (EMOTIONS as string[]).includes(label);
}
