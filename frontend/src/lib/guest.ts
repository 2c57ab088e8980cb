// Guest passes: someone who joined a live session by code without an account gets a token
// (POST /api/v1/join). It is kept here, in localStorage, and never put in a URL: the live
// connection sends it in its first message ({"type":"auth"}) and the session's API calls in
// `Authorization: Bearer`. A reload, or a lost connection, comes back as the same guest.
//
// A connection is one person, so one pass is "active" at a time: the one of the session on the
// screen. connection.ts sends the active one when it connects.

export interface GuestPass {
  token: string;
  /** the guest's participant id and name */
  id: string;
  name: string;
  /** when it was stored (old passes are dropped) */
  at: number;
}

const PASSES = 'insieme.guests';
const ACTIVE = 'insieme.guest';
const NAME = 'insieme.guestName';
/** Guest tokens last a day after the session's start at most (insieme.GuestTTL): older ones are useless. */
const KEEP_MS = 3 * 24 * 3600 * 1000;

function read(): Record<string, GuestPass> {
  try {
    const v = JSON.parse(localStorage.getItem(PASSES) ?? '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

function write(all: Record<string, GuestPass>): void {
  try {
    localStorage.setItem(PASSES, JSON.stringify(all));
  } catch {
    /* private mode: the pass lasts for this page only */
  }
}

let memory: Record<string, GuestPass> | null = null;
let activeMemory: string | null = null;

function passes(): Record<string, GuestPass> {
  const all = { ...(memory ?? {}), ...read() };
  const now = Date.now();
  for (const [k, p] of Object.entries(all)) if (!p || typeof p.token !== 'string' || now - (p.at ?? 0) > KEEP_MS) delete all[k];
  return all;
}

/** guestPass: the stored pass of a room ("session:<id>"), or null. */
export function guestPass(scope: string): GuestPass | null {
  return passes()[scope] ?? null;
}

/** saveGuest keeps the pass of a joined room and makes it the active one. */
export function saveGuest(scope: string, token: string, principal: { id: string; name: string }): void {
  const all = passes();
  all[scope] = { token, id: principal.id, name: principal.name, at: Date.now() };
  memory = all;
  write(all);
  setActive(scope);
  try {
    localStorage.setItem(NAME, principal.name);
  } catch {
    /* ignore */
  }
}

/** forgetGuest drops a pass the server no longer accepts (expired, or removed by a host). */
export function forgetGuest(scope: string): void {
  const all = passes();
  delete all[scope];
  memory = all;
  write(all);
  if (activeScope() === scope) setActive(null);
}

function setActive(scope: string | null): void {
  activeMemory = scope;
  try {
    if (scope) localStorage.setItem(ACTIVE, scope);
    else localStorage.removeItem(ACTIVE);
  } catch {
    /* ignore */
  }
}

function activeScope(): string | null {
  try {
    return localStorage.getItem(ACTIVE) ?? activeMemory;
  } catch {
    return activeMemory;
  }
}

/** activeGuestToken: the token the live connection authenticates with (null: none). */
export function activeGuestToken(): string | null {
  const scope = activeScope();
  return scope ? (guestPass(scope)?.token ?? null) : null;
}

/**
 * activateGuest makes a room's pass the active one; true when that changed the token, so the
 * caller reconnects the live connection (a connection cannot switch from one guest to another).
 */
export function activateGuest(scope: string): boolean {
  const before = activeGuestToken();
  if (!guestPass(scope)) return false;
  setActive(scope);
  return activeGuestToken() !== before;
}

/** deactivateGuest: a signed-in person is themselves, never a guest. */
export function deactivateGuest(): void {
  setActive(null);
}

/** lastGuestName: the name last used to join, offered again. */
export function lastGuestName(): string {
  try {
    return localStorage.getItem(NAME) ?? '';
  } catch {
    return '';
  }
}
