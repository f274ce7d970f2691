import type { MessageKey } from '../i18n/messages';

// Mirrors the server: trimmed, at most 64 characters before the @, no whitespace, a TLD of 2+ characters.
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$/;

export function validateEmail(raw: string): MessageKey | null {
  const email = raw.trim();
  if (!email) return 'validation.emailRequired';
  if (email.length > 254 || !EMAIL.test(email)) return 'validation.emailFormat';
  return null;
}

/** The server's password policy: 10 to 256 characters, at least 4 different ones, not the email address. */
export function validateNewPassword(password: string, email = ''): MessageKey | null {
  if (!password) return 'validation.passwordRequired';
  if ([...password].length < 10) return 'validation.passwordShort';
  if ([...password].length > 256) return 'validation.passwordLong';
  if (new Set(password).size < 4) return 'validation.passwordVariety';
  if (email && password.trim().toLowerCase() === email.trim().toLowerCase()) return 'validation.passwordIsEmail';
  return null;
}

export function validateLoginPassword(password: string): MessageKey | null {
  return password ? null : 'validation.passwordRequired';
}
