import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/client';
import failures from '../src/api/failures.json';
import type { FailureCode } from '../src/api/types';
import { detectLocale, errorText, plural, translator } from '../src/i18n/core';
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

describe('i18n of errors, plurals and numbers', () => {
  const API_CODES = ['bad_request', 'invalid_field', 'invalid_parameter', 'invalid_cursor', 'invalid_email', 'weak_password',
    'email_taken', 'invalid_credentials', 'rate_limited', 'unauthorized', 'invalid_refresh_token', 'session_revoked',
    'refresh_token_reused', 'not_found', 'conflict', 'not_ready', 'not_uploaded', 'not_failed', 'not_a_video', 'too_large',
    'unavailable', 'misconfigured', 'internal', 'unsupported_media_type', 'quota_exceeded', 'storage_quota_exceeded',
    'invalid_password'];
  // The server's failure registry (chalicelib/failures.py), as the web app reads it.
  const VIDEO_CODES = Object.keys(failures.codes) as FailureCode[];

  it('has a translation for every API error code and every video error_code', () => {
    for (const c of API_CODES) expect(messages.en, c).toHaveProperty(`error.${c}`);
    expect(VIDEO_CODES).toContain('unreadable_video');
    for (const c of VIDEO_CODES) {
      expect(messages.en, c).toHaveProperty(`videoError.${c}`);
      expect(messages.es, c).toHaveProperty(`videoError.${c}`);
    }
    for (const c of API_CODES) {
      const e = new ApiError(c, 'the server English', 400, c === 'rate_limited' ? 90 : undefined);
      expect(errorText(e, translator('es'))).not.toContain('the server English');
    }
  });

  it('words rate_limited generically with the wait from Retry-After', () => {
    const en = translator('en');
    const es = translator('es');
    expect(errorText(new ApiError('rate_limited', 'x', 429, 1), en)).toBe('Too many attempts. Try again in 1 second.');
    expect(errorText(new ApiError('rate_limited', 'x', 429, 30), en)).toBe('Too many attempts. Try again in 30 seconds.');
    expect(errorText(new ApiError('rate_limited', 'x', 429, 61), es)).toBe('Demasiados intentos. Vuelve a intentarlo dentro de 2 minutos.');
    expect(errorText(new ApiError('rate_limited', 'x', 429), en)).toBe('Too many attempts. Wait a while and try again.');
  });

  it('picks plural forms with Intl.PluralRules and formats numbers for the locale', () => {
    const en = translator('en');
    const es = translator('es');
    expect(plural(en, 'stats.videoCount', 1)).toBe('1 video');
    expect(plural(en, 'stats.videoCount', 2)).toBe('2 videos');
    expect(plural(es, 'stats.videoCount', 1)).toBe('1 vídeo');
    expect(plural(es, 'results.segments', 0)).toBe('0 segmentos');
    expect(plural(en, 'stats.videoCount', 1234)).toBe('1,234 videos');
    expect(plural(es, 'stats.videoCount', 1_000_000)).toBe('1.000.000 vídeos'); // Spanish "many" falls back to "other"
    expect(en('upload.processing', { done: 1200, total: 3400 })).toBe('Analysing: 1,200 of 3,400 segments');
  });
});
