import { useState, type ChangeEvent, type FormEvent } from 'react';
import type { MessageKey } from '../i18n/messages';

export type Values<F extends string> = Record<F, string>;

export interface FormSpec<F extends string> {
  initial: Values<F>;
  /** Each field's problem (a message key), or null; fields left out are always valid. */
  validate: (values: Values<F>) => Partial<Record<F, MessageKey | null>>;
  /** Runs once every field is valid; a throw becomes `serverError` (shown in words by the page). */
  onSubmit: (values: Values<F>) => Promise<void>;
}

/**
 * A small form with inline validation (sign-in, sign-up, re-entering the password): a field's error shows
 * once it was left (blur) or the form was submitted; submitting runs `onSubmit` only when all is valid,
 * marks the form busy meanwhile and keeps the server's refusal for the page to show.
 */
export function useForm<F extends string>({ initial, validate, onSubmit }: FormSpec<F>) {
  const [values, setValues] = useState<Values<F>>(initial);
  const [touched, setTouched] = useState<Partial<Record<F, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);
  const problems = validate(values);

  const setValue = (field: F, value: string) => setValues((v) => ({ ...v, [field]: value }));

  /** The props that wire an input to the form. */
  const bind = (field: F) => ({
    name: field,
    value: values[field],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setValue(field, e.target.value),
    onBlur: () => setTouched((s) => ({ ...s, [field]: true })),
  });

  /** The field's problem, once the user has had a chance to finish typing it. */
  const error = (field: F): MessageKey | null => ((submitted || touched[field]) && problems[field]) || null;

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    setSubmitted(true);
    setServerError(null);
    if (Object.values(problems).some(Boolean)) return;
    setBusy(true);
    try {
      await onSubmit(values);
    } catch (err) {
      setServerError(err);
    } finally {
      setBusy(false);
    }
  }

  return { values, setValue, bind, error, submit, busy, serverError };
}
