import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api } from '../src/lib/api';
import { errorMessage, fieldMessage, otherFields } from '../src/lib/errors';
import { match } from '../src/lib/router.svelte';
import { jsonResponse, useEnglish } from './helpers';

beforeEach(() => useEnglish());

async function fail(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected a failure');
}
afterEach(() => vi.unstubAllGlobals());

describe('api', () => {
  it('sends JSON with the cookie and returns the decoded body', async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse(201, { id: 'u1' }));
    vi.stubGlobal('fetch', fetch);
    const out = await api.post('/auth/register', { email: 'a@b.org' });
    expect(out).toEqual({ id: 'u1' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/auth/register');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body)).toEqual({ email: 'a@b.org' });
  });

  it('returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(null, { status: 204 })));
    await expect(api.post('/auth/logout')).resolves.toBeUndefined();
  });

  it('turns the error shape into an ApiError with fields, limits and Retry-After', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(
        jsonResponse(
          400,
          { error: { code: 'invalid', message: 'x', fields: { displayName: 'too_long' }, limits: { displayName: 60 } } },
        ),
      ),
    );
    const e = await fail(api.patch('/me', { displayName: 'x'.repeat(61) }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('invalid');
    expect(e.fields).toEqual({ displayName: 'too_long' });
    expect(e.limits).toEqual({ displayName: 60 });

    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse(429, { error: { code: 'too_many', message: 'x' } }, { 'Retry-After': '30' })));
    const t = await fail(api.post('/auth/login', {}));
    expect(t.retryAfter).toBe(30);
    expect(errorMessage(t)).toBe('Too many attempts. Please try again in 30 seconds.');
    expect(errorMessage(new ApiError(429, { code: 'too_many' }, 900))).toBe('Too many attempts. Please try again in 15 minutes.');
  });

  it('maps a body-less failure to the code of its status, and a network failure to "network"', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response('oops', { status: 503 })));
    expect((await fail(api.get('/me'))).code).toBe('unavailable');
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    const e = await fail(api.get('/me'));
    expect(e.code).toBe('network');
    expect(errorMessage(e)).toMatch(/No connection/);
  });
});

describe('error text', () => {
  const e = new ApiError(400, {
    code: 'invalid',
    fields: { password: 'too_short', displayName: 'too_long', token: 'invalid_value', email: 'weird_code' },
    limits: { password: 10, displayName: 60 },
  });
  it('shows fields.<code> with the limit', () => {
    expect(fieldMessage(e, 'password')).toBe('This is too short. At least 10 characters.');
    expect(fieldMessage(e, 'displayName')).toBe('This is too long. At most 60 characters.');
    expect(fieldMessage(e, 'token')).toBe('This value is not valid.');
    expect(fieldMessage(e, 'email')).toBe('This value is not valid.');
    expect(fieldMessage(e, 'language')).toBe('');
  });
  it('shows errors.<code>, with overrides, and unknown codes generically', () => {
    expect(errorMessage(e)).toBe('Some fields are not valid. Please check them.');
    expect(errorMessage(new ApiError(401, { code: 'unauthorized' }), { unauthorized: 'custom' })).toBe('custom');
    expect(errorMessage(new ApiError(418, { code: 'teapot' }))).toBe('Something went wrong. Please try again.');
  });
  it('lists fields without an input', () => {
    expect(otherFields(e, ['password', 'displayName', 'email'])).toEqual(['token']);
  });
});

describe('router', () => {
  it('matches the pages', () => {
    expect(match('/')).toEqual({ name: 'home', params: {} });
    expect(match('/organisations/new')).toEqual({ name: 'createOrg', params: {} });
    expect(match('/organisations/abc%20d')).toEqual({ name: 'organisation', params: { id: 'abc d' } });
    expect(match('/reset')).toEqual({ name: 'reset', params: {} });
    expect(match('/nope')).toEqual({ name: 'notFound', params: {} });
  });
});
