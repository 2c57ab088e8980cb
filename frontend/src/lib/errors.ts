// Turning API errors into catalogue text: `errors.<code>` for the form, `fields.<fieldcode>` next
// to the input, with the `limits` value when the API gives one.
import { ApiError } from './api';
import { t } from './i18n/index.svelte';

/** Error codes of the API (docs/API.md) plus "network" for a failed fetch. */
export const ERROR_CODES = [
  'invalid',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'too_many',
  'unavailable',
  'internal',
  'network',
] as const;

/** Field codes of the API (docs/API.md). */
export const FIELD_CODES = [
  'required',
  'too_short',
  'too_long',
  'invalid_email',
  'invalid_language',
  'invalid_value',
  'invalid_type',
  'unknown_field',
  'malformed_json',
  'taken',
  'wrong_password',
] as const;

export function errorMessage(e: ApiError | null | undefined, overrides: Partial<Record<string, string>> = {}): string {
  if (!e) return '';
  if (overrides[e.code]) return overrides[e.code]!;
  if (e.code === 'too_many' && e.retryAfter) {
    return e.retryAfter >= 120
      ? t('errors.too_many_retry_minutes', { minutes: Math.ceil(e.retryAfter / 60) })
      : t('errors.too_many_retry', { seconds: e.retryAfter });
  }
  if ((ERROR_CODES as readonly string[]).includes(e.code)) return t(`errors.${e.code}`);
  return t('errors.unknown');
}

export function fieldMessage(e: ApiError | null | undefined, field: string): string {
  if (!e) return '';
  const code = e.fields[field];
  if (!code) return '';
  const text = (FIELD_CODES as readonly string[]).includes(code) ? t(`fields.${code}`) : t('fields.invalid_value');
  const limit = e.limits[field];
  if (typeof limit !== 'number') return text;
  const limitKey = code === 'too_short' ? 'limits.min' : code === 'too_long' ? 'limits.max' : 'limits.value';
  return `${text} ${t(limitKey, { n: limit })}`;
}

/** Fields of the error that no input on the form shows (reported with the form's message). */
export function otherFields(e: ApiError | null | undefined, shown: readonly string[]): string[] {
  if (!e) return [];
  return Object.keys(e.fields).filter((f) => !shown.includes(f));
}
