import { describe, expect, it } from 'vitest';
import { detectLocale, translator } from '../src/i18n/core';
import { messages } from '../src/i18n/messages';
import { validateEmail, validateLoginPassword, validateNewPassword } from '../src/lib/validation';

describe('i18n', () => {
  it('picks the saved language, else the browser language, else English', () => {
    expect(detectLocale('es', ['en-US'])).toBe('es');
    expect(detectLocale(null, ['es-MX', 'en'])).toBe('es');
    expect(detectLocale(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(detectLocale('de', ['de-DE'])).toBe('en');
  });

  it('has every key in both languages, none empty', () => {
    const en = Object.keys(messages.en).sort();
    expect(Object.keys(messages.es).sort()).toEqual(en);
    for (const lang of ['en', 'es'] as const) for (const k of en) expect(messages[lang][k as keyof typeof messages.en]).not.toBe('');
  });

  it('fills in variables and names the accessible labels the journey relies on', () => {
    const en = translator('en');
    const es = translator('es');
    expect(en('upload.processing', { done: 1, total: 3 })).toBe('Analysing: 1 of 3 segments');
    expect(es('upload.processing', { done: 1, total: 3 })).toBe('Analizando: 1 de 3 segmentos');
    expect(en('auth.email')).toBe('Email');
    expect(es('auth.email')).toBe('Correo electrónico');
    expect(es('auth.password')).toBe('Contraseña');
    expect(es('upload.file')).toBe('Archivo de vídeo');
    expect(en('results.timeline').toLowerCase()).toContain('timeline');
    expect(es('results.timeline').toLowerCase()).toContain('línea de tiempo');
  });
});

describe('validation (the server policy)', () => {
  it('email', () => {
    expect(validateEmail('')).toBe('validation.emailRequired');
    expect(validateEmail('ana')).toBe('validation.emailFormat');
    expect(validateEmail('ana@example')).toBe('validation.emailFormat');
    expect(validateEmail('ana@example.c')).toBe('validation.emailFormat');
    expect(validateEmail('a na@example.com')).toBe('validation.emailFormat');
    expect(validateEmail('  Ana@Example.com ')).toBeNull();
  });

  it('new password: 10+ characters, 4+ distinct, not the email', () => {
    expect(validateNewPassword('')).toBe('validation.passwordRequired');
    expect(validateNewPassword('abc123xyz')).toBe('validation.passwordShort');
    expect(validateNewPassword('aaaaaabbbbbb')).toBe('validation.passwordVariety');
    expect(validateNewPassword('abcabcabcabc')).toBe('validation.passwordVariety');
    expect(validateNewPassword('abcdabcdabcd')).toBeNull();
    expect(validateNewPassword('x'.repeat(200) + 'abcd'.repeat(20))).toBe('validation.passwordLong');
    expect(validateNewPassword('ana@example.com', 'ana@example.com')).toBe('validation.passwordIsEmail');
    expect(validateLoginPassword('')).toBe('validation.passwordRequired');
    expect(validateLoginPassword('x')).toBeNull();
  });
});
