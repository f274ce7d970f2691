import type { Analysis } from '../api/types';
import type { MessageKey, Translate } from '../i18n/core';

/** The classifiers the engine names in `model.version` ("calibrated/1", "ensemble+flip/1"), in words. */
const VARIANTS: Record<string, MessageKey> = {
  calibrated: 'model.calibrated',
  ensemble: 'model.ensemble',
  mini_xception: 'model.mini_xception',
  faceapi: 'model.faceapi',
  own: 'model.own',
};

export interface ModelWords {
  /** The sentence's key: Emotionfy's own model or Amazon Rekognition. */
  sentence: MessageKey;
  /** The variant's key, or its raw name when the app does not know it (a newer engine). */
  variant: MessageKey | string;
  known: boolean;
  /** Each face was also read mirrored and the two readings averaged ("+flip"). */
  mirrored: boolean;
}

/**
 * What analysed a video, for people: the results page says it in words ("Emotionfy's expression model
 * (calibrated)") and keeps `backend`, `version` and the rest for a "technical details" disclosure.
 */
export function describeModel(model: Pick<Analysis['model'], 'backend' | 'version'>): ModelWords {
  if (model.backend === 'rekognition') {
    return { sentence: 'results.analysedByRekognition', variant: '', known: true, mirrored: false };
  }
  const [head] = (model.version ?? '').split('/');
  const [name, ...flags] = head.split('+');
  const known = name in VARIANTS;
  return {
    sentence: 'results.analysedBy',
    variant: known ? VARIANTS[name] : name || model.backend,
    known,
    mirrored: flags.includes('flip'),
  };
}

/** The results page's sentence: "Analysed by Emotionfy's expression model (calibrated), looking at ...". */
export function modelSentence(t: Translate, model: Pick<Analysis['model'], 'backend' | 'version' | 'sample_fps'>): string {
  const w = describeModel(model);
  const name = w.known && w.variant ? t(w.variant as MessageKey) : w.variant;
  const variant = w.mirrored ? t('results.modelMirrored', { variant: name }) : name;
  return t(w.sentence, { variant, fps: model.sample_fps });
}
