// The signed-in person (or null), loaded once at start from GET /api/v1/me.
import { api, ApiError, setUnauthorizedHandler } from './api';
import { live } from './connection';
import { deactivateGuest } from './guest';
import { lang, setLanguage } from './i18n/index.svelte';
import type { User } from './types';

export const session = $state<{ user: User | null; ready: boolean }>({ user: null, ready: false });

// A 401 from any call means the session is over (expired, signed out elsewhere, suspended).
setUnauthorizedHandler(() => {
  if (session.user) signedOut();
});

export async function loadSession(): Promise<User | null> {
  try {
    session.user = await api.get<User>('/me');
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) console.warn('could not load the session', e);
    session.user = null;
  }
  session.ready = true;
  return session.user;
}

/** signedIn records a new session (register, login) and adopts the account's language. */
export async function signedIn(user: User): Promise<void> {
  session.user = user;
  deactivateGuest(); // from now on this person is themselves, not a session's guest
  if (user.language && user.language !== lang()) await setLanguage(user.language, { remember: true });
  live.reconnect(); // the websocket must see the new session cookie
}

/** updateUser replaces the signed-in user after a change (PATCH /me). */
export function updateUser(user: User): void {
  session.user = user;
}

/** signedOut forgets the person locally (after logout, account deletion, or a 401). */
export function signedOut(): void {
  session.user = null;
  live.reconnect();
}

export async function signOut(): Promise<void> {
  try {
    await api.post('/auth/logout');
  } catch (e) {
    // 401: already signed out; anything else: forget locally all the same
    if (!(e instanceof ApiError) || e.status !== 401) console.warn('logout failed', e);
  }
  signedOut();
}

export function isAdmin(): boolean {
  return session.user?.role === 'admin';
}
