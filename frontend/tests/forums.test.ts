// Forum helpers (texts in several languages, the date and number fields of the forum form) and
// the proposal page's support button.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { categoryLabel, categoryList, dateInput, dayEnd, dayStart, pickText, proposalStatusLabel, wholeNumber } from '../src/lib/forums';
import { match } from '../src/lib/router.svelte';
import { session } from '../src/lib/session.svelte';
import type { Forum, Proposal } from '../src/lib/types';
import ForumPage from '../src/pages/Forum.svelte';
import ProposalPage from '../src/pages/Proposal.svelte';
import { jsonResponse, useEnglish } from './helpers';

const rooms: Array<{ room: string; handlers: { snapshot?: (d: unknown) => void; event?: (d: unknown) => void } }> = [];
vi.mock('../src/lib/connection', () => ({
  live: {
    reconnect: vi.fn(),
    status: 'closed',
    subscribe: vi.fn((room: string, handlers: never) => {
      rooms.push({ room, handlers });
      return () => {};
    }),
    state: { subscribe: (f: (s: string) => void) => (f('open'), () => {}) },
  },
  startLive: vi.fn(),
}));

beforeEach(() => {
  useEnglish();
  rooms.length = 0;
  session.user = null;
  session.ready = true;
});
afterEach(() => vi.unstubAllGlobals());

describe('pickText', () => {
  it('prefers the reader, then Italian, then any language, and says which', () => {
    expect(pickText({ it: 'Ciao', fr: 'Salut' }, 'fr')).toEqual({ text: 'Salut', lang: 'fr', other: false });
    expect(pickText({ it: 'Ciao', fr: 'Salut' }, 'ar')).toEqual({ text: 'Ciao', lang: 'it', other: true });
    expect(pickText({ uk: 'Привіт', fr: '' }, 'ar')).toEqual({ text: 'Привіт', lang: 'uk', other: true });
    expect(pickText({}, 'en')).toEqual({ text: '', lang: '', other: false });
    expect(pickText(undefined, 'en').text).toBe('');
  });
});

describe('forum form fields', () => {
  it('turns dates into the start and the last minute of the local day, and back', () => {
    const start = dayStart('2025-03-10')!;
    const end = dayEnd('2025-03-31')!;
    expect(new Date(start).getHours()).toBe(0);
    expect(new Date(end).getHours()).toBe(23);
    expect(dateInput(start)).toBe('2025-03-10');
    expect(dateInput(end)).toBe('2025-03-31');
    expect(dayStart('')).toBeNull();
    expect(dayEnd('31/03/2025')).toBeUndefined();
    expect(dateInput(null)).toBe('');
  });

  it('reads whole numbers and leaves anything else for the API to refuse', () => {
    expect(wholeNumber(' 60 ')).toBe(60);
    expect(wholeNumber('sixty')).toBe('sixty');
  });

  it('merges checked and typed categories', () => {
    expect(categoryList(['school', 'health'], ' Transport, school,, sport ')).toEqual(['school', 'health', 'transport', 'sport']);
  });

  it('names known categories and statuses, and shows other keys as they are', () => {
    expect(categoryLabel('documents')).toBe('Documents and permits');
    expect(categoryLabel('transport')).toBe('transport');
    expect(proposalStatusLabel('evaluation')).toBe('Under evaluation');
  });
});

describe('routes', () => {
  it('match the forum pages', () => {
    expect(match('/forums')).toEqual({ name: 'forums', params: {} });
    expect(match('/forums/abc')).toEqual({ name: 'forum', params: { id: 'abc' } });
    expect(match('/proposals/p%201')).toEqual({ name: 'proposal', params: { id: 'p 1' } });
  });
});

const forum: Forum = {
  id: 'f1',
  municipality: { id: 'm1', name: 'Bari', verified: true },
  title: { it: 'Forum di Bari' },
  description: {},
  territory: 'Bari',
  languages: ['it', 'fr'],
  categories: ['school', 'health'],
  status: 'open',
  opensAt: null,
  closesAt: null,
  answerDays: 60,
  reportLimit: 3,
  supportLimit: 0,
  personalPosts: false,
  acceptsPosts: true,
  createdAt: '2025-03-01T10:00:00Z',
};

function proposal(extra: Partial<Proposal> = {}): Proposal {
  return {
    id: 'p1',
    forumId: 'f1',
    title: 'Écoles ouvertes le samedi',
    language: 'fr',
    category: 'school',
    status: 'submitted',
    supports: 0,
    comments: 0,
    author: { id: 'u1', displayName: '', former: true },
    organisation: { id: 'o1', name: 'Ponti', verified: true },
    createdAt: '2025-03-01T10:00:00Z',
    dueAt: '2025-04-30T10:00:00Z',
    overdue: true,
    body: 'x',
    bodyHtml: '<p><strong>Le samedi</strong></p>',
    updatedAt: '2025-03-01T10:00:00Z',
    supported: false,
    ...extra,
  };
}

function routes(p: Proposal, extra: Record<string, () => Response> = {}) {
  return vi.fn(async (url: string, init: RequestInit) => {
    const key = `${init.method} ${url}`;
    if (extra[key]) return extra[key]();
    if (url === '/api/v1/proposals/p1') return jsonResponse(200, p);
    if (url === '/api/v1/forums/f1') return jsonResponse(200, forum);
    return jsonResponse(404, { error: { code: 'not_found' } });
  });
}

describe('Proposal page', () => {
  it('shows the sanitised body, a former author, the overdue marker, and a disabled support for guests', async () => {
    vi.stubGlobal('fetch', routes(proposal()));
    render(ProposalPage, { id: 'p1' });
    await screen.findByRole('heading', { level: 1, name: 'Écoles ouvertes le samedi' });
    expect(document.querySelector('.body strong')?.textContent).toBe('Le samedi');
    expect(screen.getByText('Former participant')).toBeInTheDocument();
    expect(screen.getAllByText('Answer overdue').length).toBeGreaterThan(0);
    const button = screen.getByRole('button', { name: /Support/ });
    expect(button).toHaveAttribute('aria-pressed', 'false');
    expect(button).toHaveAttribute('aria-disabled', 'true');
    expect(button.getAttribute('aria-describedby')).toContain('support-why');
    expect(screen.getByText('Sign in to support proposals.')).toBeInTheDocument();
  });

  it('supports, and follows the counts of the forum room', async () => {
    session.user = {
      id: 'u2',
      displayName: 'Bruno',
      email: 'b@example.org',
      language: 'en',
      role: 'user',
      emailConfirmed: true,
      status: 'active',
      createdAt: '2025-01-01T00:00:00Z',
    };
    const fetch = routes(proposal({ overdue: false }), {
      'PUT /api/v1/proposals/p1/support': () => jsonResponse(200, { supported: true, supports: 1 }),
    });
    vi.stubGlobal('fetch', fetch);
    render(ProposalPage, { id: 'p1' });
    const button = await screen.findByRole('button', { name: /Support/ });
    await vi.waitFor(() => expect(rooms.map((r) => r.room)).toEqual(['forum:f1']));
    expect(button).not.toHaveAttribute('aria-disabled');
    await fireEvent.click(button);
    await vi.waitFor(() => expect(button).toHaveAttribute('aria-pressed', 'true'));
    expect(screen.getByText('Supports: 1')).toBeInTheDocument();
    // Someone else supports: the room says the count is now 2 (twice: harmless).
    rooms[0].handlers.event?.({ type: 'proposal.counts', id: 'p1', supports: 2, comments: 0 });
    rooms[0].handlers.event?.({ type: 'proposal.counts', id: 'p1', supports: 2, comments: 0 });
    await screen.findByText('Supports: 2');
    // Another proposal's counts do not touch this one.
    rooms[0].handlers.event?.({ type: 'proposal.counts', id: 'other', supports: 9, comments: 9 });
    await Promise.resolve();
    expect(screen.getByText('Supports: 2')).toBeInTheDocument();
  });

  it('explains a closed forum', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/api/v1/proposals/p1') return jsonResponse(200, proposal());
        return jsonResponse(200, { ...forum, acceptsPosts: false, status: 'closed' });
      }),
    );
    session.user = { id: 'u2', displayName: 'B', email: 'b@x.org', language: 'en', role: 'user', emailConfirmed: true, status: 'active', createdAt: '' };
    render(ProposalPage, { id: 'p1' });
    await screen.findByText('The forum is not accepting contributions now, so supports cannot change.');
    expect(screen.getByRole('button', { name: /Support/ })).toHaveAttribute('aria-disabled', 'true');
  });
});

describe('Forum page', () => {
  it('lists proposals and applies the forum room live, idempotently; a snapshot refetches', async () => {
    const lists: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (url === '/api/v1/forums/f1') return jsonResponse(200, forum);
        if (url.startsWith('/api/v1/forums/f1/proposals?')) {
          lists.push(url);
          return jsonResponse(200, { items: [], total: 0 });
        }
        return jsonResponse(404, { error: { code: 'not_found' } });
      }),
    );
    render(ForumPage, { id: 'f1' });
    await screen.findByRole('heading', { level: 1, name: 'Forum di Bari' });
    expect(screen.getByText('Shown in Italiano')).toBeInTheDocument();
    await screen.findByText('No proposals yet.');
    expect(rooms.map((r) => r.room)).toEqual(['forum:f1']);
    expect(lists).toEqual(['/api/v1/forums/f1/proposals?limit=20']);

    const room = rooms[0].handlers;
    const created = { type: 'proposal.created', proposal: proposal({ supports: 0 }) };
    room.event?.(created);
    room.event?.(created);
    await screen.findByRole('link', { name: 'Écoles ouvertes le samedi' });
    expect(document.querySelectorAll('.proposals li')).toHaveLength(1);
    expect(screen.getByText('Showing 1 of 1')).toBeInTheDocument();
    room.event?.({ type: 'proposal.counts', id: 'p1', supports: 4, comments: 2 });
    await screen.findByText('Supports: 4');
    expect(screen.getByText('Comments: 2')).toBeInTheDocument();

    // A resync (or a new subscription) brings the room's forum and refetches the list.
    room.snapshot?.({ ...forum, acceptsPosts: false });
    await vi.waitFor(() => expect(lists).toHaveLength(2));
    await screen.findAllByText('This forum is not accepting proposals now.');
  });
});
