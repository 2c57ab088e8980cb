// A small fetch wrapper for the JSON API under /api/v1 (docs/API.md).
//
// Every failure becomes an ApiError carrying the API's error code, per-field codes and limits,
// so forms can show `errors.<code>` and `fields.<fieldcode>` from the catalogue next to the
// right input. A network failure has the code "network".

export const API_BASE = '/api/v1';

export interface ErrorBody {
  code: string;
  message?: string;
  fields?: Record<string, string>;
  limits?: Record<string, number>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly limits: Record<string, number>;
  readonly retryAfter: number | null;

  constructor(status: number, body: ErrorBody, retryAfter: number | null = null) {
    super(body.message || body.code);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.fields = body.fields ?? {};
    this.limits = body.limits ?? {};
    this.retryAfter = retryAfter;
  }
}

const codeForStatus: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'too_many',
  503: 'unavailable',
};

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

let onUnauthorized: (() => void) | null = null;

/** setUnauthorizedHandler: called when a signed-in call gets 401 (the session expired or ended). */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

/** Calls whose 401 means "wrong credentials", not "your session ended". */
const credentialCalls = new Set(['/auth/login', '/auth/register']);

export interface RequestOptions {
  /**
   * A live session's guest token, sent as `Authorization: Bearer` (never in the URL). The server
   * reads it only when there is no session cookie; a 401 then means the guest's pass, not a
   * signed-in session, ended.
   */
  token?: string | null;
}

/** request sends one API call and returns the decoded JSON (undefined for 202/204 without body). */
export async function request<T = unknown>(method: Method, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  };
  if (opts.token) (init.headers as Record<string, string>).Authorization = `Bearer ${opts.token}`;
  if (body !== undefined) {
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(API_BASE + path, init);
  } catch {
    throw new ApiError(0, { code: 'network' });
  }
  const text = await res.text().catch(() => '');
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !credentialCalls.has(path) && !opts.token) onUnauthorized?.();
    const err = (data as { error?: ErrorBody } | undefined)?.error;
    const retry = res.headers.get('Retry-After');
    const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : null;
    if (err && typeof err.code === 'string') throw new ApiError(res.status, err, retryAfter);
    throw new ApiError(res.status, { code: codeForStatus[res.status] ?? 'internal' }, retryAfter);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body),
};

/** asGuest: the same calls with a guest's token (null: as the signed-in person or anonymous). */
export function asGuest(token: string | null | undefined) {
  const opts: RequestOptions = { token: token ?? null };
  return {
    get: <T>(path: string) => request<T>('GET', path, undefined, opts),
    post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}, opts),
    patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body, opts),
  };
}

/** asApiError turns anything thrown into an ApiError. */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, { code: 'internal' });
}
