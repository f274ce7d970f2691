import { describe, expect, it } from 'vitest';
import { translator } from '../src/i18n/core';
import { describeModel, modelSentence } from '../src/lib/modelInfo';

const sentence = (lang: 'en' | 'es', model: { backend: string; version: string }, fps = 5) =>
  modelSentence(translator(lang), { ...model, sample_fps: fps });

describe('describeModel: the model in words, not "onnx · ensemble+flip/1"', () => {
  it('names the default model in plain words, in both languages', () => {
    expect(sentence('en', { backend: 'onnx', version: 'calibrated/1' })).toBe(
      'Analysed by Emotionfy’s expression model (calibrated), looking at the faces 5 times a second.',
    );
    expect(sentence('es', { backend: 'onnx', version: 'calibrated/1' })).toContain('modelo de expresiones de Emotionfy (calibrado)');
  });

  it('says what "+flip" means and knows every classifier the engine has', () => {
    const s = sentence('en', { backend: 'onnx', version: 'ensemble+flip/1' });
    expect(s).toContain('(two models averaged, each face also read mirrored)');
    expect(s).not.toMatch(/onnx|\+flip|\/1/);
    for (const name of ['ensemble', 'mini_xception', 'faceapi', 'own', 'calibrated']) {
      expect(describeModel({ backend: 'onnx', version: `${name}/1` }).known).toBe(true);
    }
  });

  it('names Rekognition, and falls back to the raw name for a model it does not know', () => {
    expect(sentence('en', { backend: 'rekognition', version: 'rekognition-detectfaces/1' })).toBe(
      'Analysed by Amazon Rekognition, looking at the faces 5 times a second.',
    );
    const w = describeModel({ backend: 'onnx', version: 'future_model/3' });
    expect(w.known).toBe(false);
    expect(w.variant).toBe('future_model');
  });
});
