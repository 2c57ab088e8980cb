// The join page (guest passes kept in localStorage, never in the address), the guest token on
// API calls, and the participant page following the room `session:<id>`.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { asGuest, setUnauthorizedHandler } from '../src/lib/api';
import { activeGuestToken, activateGuest, deactivateGuest, forgetGuest, guestPass, saveGuest } from '../src/lib/guest';
import { route } from '../src/lib/router.svelte';
import { session } from '../src/lib/session.svelte';
import JoinPage from '../src/pages/Join.svelte';
import SessionLive from '../src/pages/SessionLive.svelte';
import { jsonResponse, useEnglish } from './helpers';

type Handlers = { snapshot?: (d: unknown, p?: unknown) => void; event?: (d: unknown, p?: unknown) => void; error?: (e: unknown) => void };
const rooms: Array<{ room: string; handlers: Handlers }> = [];
const sent: Array<{ type: string; fields: Record<string, unknown> }> = [];
const acks: Record<string, unknown> = {};
const conn = vi.hoisted(() => ({ state: 'open', listeners: new Set<(s: string) => void>(), lastCloseCode: null as number | null }));
function setState(s: string, code: number | null = null) {
  conn.state = s;
  conn.lastCloseCode = code;
  for (const f of conn.listeners) f(s);
}

vi.mock('../src/lib/connection', () => ({
  live: {
    reconnect: vi.fn(),
    status: 'open',
    get lastCloseCode() {
      return conn.lastCloseCode;
    },
    subscribe: vi.fn((room: string, handlers: Handlers) => {
      rooms.push({ room, handlers });
      return () => {};
    }),
    send: vi.fn(async (type: string, fields: Record<string, unknown>) => {
      sent.push({ type, fields });
      return acks[type];
    }),
    state: {
      subscribe: (f: (s: string) => void) => {
        conn.listeners.add(f);
        f(conn.state);
        return () => conn.listeners.delete(f);
      },
    },
  },
  startLive: vi.fn(),
}));

beforeEach(() => {
  useEnglish();
  localStorage.clear();
  rooms.length = 0;
  sent.length = 0;
  session.user = null;
  session.ready = true;
  history.replaceState(null, '', '/join');
  window.scrollTo = vi.fn() as unknown as typeof window.scrollTo; // jsdom has none
});
afterEach(() => vi.unstubAllGlobals());

describe('guest passes', () => {
  it('keeps one pass per session, one active at a time, and forgets them', () => {
    saveGuest('session:a', 'tok-a', { id: 'g1', name: 'Ion' });
    saveGuest('session:b', 'tok-b', { id: 'g2', name: 'Ion' });
    expect(activeGuestToken()).toBe('tok-b');
    expect(activateGuest('session:a')).toBe(true);
    expect(activateGuest('session:a')).toBe(false);
    expect(activeGuestToken()).toBe('tok-a');
    deactivateGuest();
    expect(activeGuestToken()).toBeNull();
    forgetGuest('session:b');
    expect(guestPass('session:b')).toBeNull();
    expect(guestPass('session:a')?.id).toBe('g1');
  });

  it('sends the token as a bearer header, and a guest\'s 401 signs nobody out', async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse(401, { error: { code: 'unauthorized', message: 'x' } }));
    vi.stubGlobal('fetch', fetch);
    const signedOut = vi.fn();
    setUnauthorizedHandler(signedOut);
    await expect(asGuest('tok').get('/sessions/s1')).rejects.toMatchObject({ code: 'unauthorized' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/sessions/s1');
    expect(init.headers.Authorization).toBe('Bearer tok');
    expect(signedOut).not.toHaveBeenCalled();
    setUnauthorizedHandler(null);
  });
});

describe('join page', () => {
  it('joins a guest by a typed code and keeps the token out of the address', async () => {
    const fetch = vi.fn().mockResolvedValue(
      jsonResponse(200, { kind: 'session', id: 's1', token: 'secret-token', principal: { id: 'g1', name: 'Ion', guest: true } }),
    );
    vi.stubGlobal('fetch', fetch);
    render(JoinPage);
    await fireEvent.input(screen.getByLabelText('Code'), { target: { value: ' 7kx-4pq 2mza' } });
    await fireEvent.input(screen.getByLabelText('Your name'), { target: { value: ' Ion ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    await waitFor(() => expect(route.path).toBe('/sessions/s1'));
    expect(JSON.parse(fetch.mock.calls[0][1].body)).toEqual({ code: '7KX4PQ2MZA', name: 'Ion' });
    expect(activeGuestToken()).toBe('secret-token');
    expect(location.href).not.toContain('secret-token');
  });

  it('says what is wrong before asking the server, and translates its answer', async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse(404, { error: { code: 'not_found', message: 'x' } }));
    vi.stubGlobal('fetch', fetch);
    render(JoinPage);
    await fireEvent.input(screen.getByLabelText('Code'), { target: { value: 'ABC' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    expect(await screen.findByText('A code has 10 letters and digits.')).toBeInTheDocument();
    await fireEvent.input(screen.getByLabelText('Code'), { target: { value: '7KX4PQ2MZA' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    expect(screen.getByLabelText('Your name')).toHaveAttribute('aria-invalid', 'true');
    expect(fetch).not.toHaveBeenCalled();
    await fireEvent.input(screen.getByLabelText('Your name'), { target: { value: 'Ion' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    expect(await screen.findByText('No live session or workshop has this code. Check it and try again.')).toBeInTheDocument();
  });
});

describe('participant page', () => {
  const view = {
    id: 's1',
    forumId: 'f1',
    title: { en: 'San Severo forum' },
    scheduledAt: '2026-03-01T17:00:00Z',
    mode: 'in_person',
    status: 'live',
    agenda: [{ id: 'a', title: { en: 'Housing' }, minutes: 10 }],
    current: 'a',
    currentSince: new Date(Date.now() - 60_000).toISOString(),
    guestsMayAsk: true,
    preModerate: true,
    host: false,
    version: 2,
    serverTime: new Date().toISOString(),
  };

  it('shows the room\'s state and follows its events, votes and raises a hand', async () => {
    saveGuest('session:s1', 'tok', { id: 'g1', name: 'Ion' });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse(200, view)));
    render(SessionLive, { id: 's1' });
    await waitFor(() => expect(rooms.some((r) => r.room === 'session:s1')).toBe(true));
    const room = rooms.find((r) => r.room === 'session:s1')!.handlers;
    room.snapshot!({
      session: view,
      polls: [{ id: 'p1', kind: 'single', title: { en: 'Which topic?' }, options: [{ en: 'Homes' }, { en: 'Jobs' }], guestsMayVote: true, showResults: 'live', status: 'open' }],
      questions: [],
      queue: [{ participantId: 'g9', name: 'Amina', since: view.currentSince }],
      presence: { guests: 3, accounts: 1 },
      me: { id: 'g1', name: 'Ion', guest: true },
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'San Severo forum' })).toBeInTheDocument();
    expect(screen.getAllByText('Housing')).toHaveLength(2); // now, and in the agenda
    expect(screen.getByTestId('countdown')).toHaveTextContent(/9:0\d/);
    expect(screen.getByTestId('presence')).toHaveTextContent('Taking part: 4');

    room.event!({ type: 'presence', guests: 10, accounts: 2 });
    room.event!({ type: 'presence', guests: 10, accounts: 2 });
    await waitFor(() => expect(screen.getByTestId('presence')).toHaveTextContent('Taking part: 12'));

    acks['poll.vote'] = { version: 1 };
    await fireEvent.click(screen.getByLabelText('Jobs'));
    await fireEvent.click(screen.getByRole('button', { name: 'Vote' }));
    await waitFor(() => expect(sent.find((m) => m.type === 'poll.vote')?.fields).toEqual({ session: 's1', poll: 'p1', choices: [1] }));
    expect(await screen.findByRole('button', { name: 'Change my vote' })).toBeInTheDocument();

    acks['hand.raise'] = { queue: [{ participantId: 'g9', name: 'Amina', since: view.currentSince }, { participantId: 'g1', name: 'Ion', since: view.currentSince }] };
    await fireEvent.click(screen.getByRole('button', { name: 'Raise my hand' }));
    await waitFor(() => expect(screen.getByTestId('queue-place')).toHaveTextContent('You are number 2 in the queue (2 waiting).'));

    room.event!({ type: 'session.state', session: { ...view, version: 3, floor: { participantId: 'g1', name: 'Ion', startedAt: new Date().toISOString() } } });
    room.event!({ type: 'queue.state', queue: [{ participantId: 'g9', name: 'Amina', since: view.currentSince }] });
    await waitFor(() => expect(screen.getByTestId('floor')).toHaveTextContent('You have the floor'));
  });

  it('says so when a host removed the guest (close 4004), and forgets the pass', async () => {
    saveGuest('session:s3', 'tok3', { id: 'g3', name: 'Ion' });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse(200, { ...view, id: 's3' })));
    render(SessionLive, { id: 's3' });
    await screen.findByRole('heading', { level: 1, name: 'San Severo forum' });
    setState('reconnecting', 4004);
    expect(await screen.findByText('A host removed you from this session.')).toBeInTheDocument();
    expect(guestPass('session:s3')).toBeNull();
    expect(activeGuestToken()).toBeNull();
    setState('open');
  });

  it('asks to join again when the guest pass is refused', async () => {
    saveGuest('session:s2', 'old', { id: 'g1', name: 'Ion' });
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse(401, { error: { code: 'unauthorized', message: 'x' } })));
    render(SessionLive, { id: 's2' });
    expect(await screen.findByText('Your guest pass is no longer valid. Join again with the code.')).toBeInTheDocument();
    expect(guestPass('session:s2')).toBeNull();
  });
});
