// The forum page's proposal list: live events applied idempotently, pages merged, requests
// overtaken by newer ones dropped, events that arrive during a request replayed on its answer.
import { describe, expect, it } from 'vitest';
import {
  ProposalFeed,
  appendPage,
  applyEvent,
  emptyList,
  emptyQuery,
  fromPage,
  queryFromURL,
  queryParams,
  urlParams,
  type ListQuery,
  type ListState,
} from '../src/lib/proposalList';
import type { ForumEvent, ProposalPage, ProposalSummary } from '../src/lib/types';

function summary(id: string, extra: Partial<ProposalSummary> = {}): ProposalSummary {
  return {
    id,
    forumId: 'f1',
    title: `Proposal ${id}`,
    language: 'it',
    category: 'school',
    status: 'submitted',
    supports: 0,
    comments: 0,
    author: { id: 'a1', displayName: 'Amina' },
    organisation: { id: 'o1', name: 'Ponti', verified: true },
    createdAt: '2025-03-01T10:00:00Z',
    dueAt: '2025-04-30T10:00:00Z',
    overdue: false,
    ...extra,
  };
}

const newest: ListQuery = emptyQuery();

function list(items: ProposalSummary[], next: string | null = null, total = items.length): ListState {
  return { items, total, next, unseen: [] };
}

const two = () =>
  list([summary('b', { createdAt: '2025-03-02T10:00:00Z' }), summary('a', { createdAt: '2025-03-01T10:00:00Z' })]);

describe('applyEvent', () => {
  it('sets absolute counts; the same proposal.counts twice is harmless', () => {
    const ev: ForumEvent = { type: 'proposal.counts', id: 'a', supports: 3, comments: 1 };
    const once = applyEvent(two(), ev, newest);
    expect(once.items[1]).toMatchObject({ id: 'a', supports: 3, comments: 1 });
    const twice = applyEvent(once, ev, newest);
    expect(twice).toBe(once); // nothing changed: the same object
    expect(twice.items[1].supports).toBe(3);
  });

  it('ignores counts of a proposal that is not loaded', () => {
    const s = two();
    expect(applyEvent(s, { type: 'proposal.counts', id: 'zzz', supports: 9, comments: 9 }, newest)).toBe(s);
  });

  it('puts a new proposal at the top when sorted by newest, once', () => {
    const ev: ForumEvent = { type: 'proposal.created', proposal: summary('c', { createdAt: '2025-03-03T10:00:00Z' }) };
    const once = applyEvent(two(), ev, newest);
    expect(once.items.map((p) => p.id)).toEqual(['c', 'b', 'a']);
    expect(once.total).toBe(3);
    const twice = applyEvent(once, ev, newest);
    expect(twice).toBe(once);
    expect(twice.items.map((p) => p.id)).toEqual(['c', 'b', 'a']);
    expect(twice.total).toBe(3);
  });

  it('does not duplicate a proposal that the page already holds (snapshot overlap)', () => {
    const s = two();
    const out = applyEvent(s, { type: 'proposal.created', proposal: summary('b', { createdAt: '2025-03-02T10:00:00Z' }) }, newest);
    expect(out.items.map((p) => p.id)).toEqual(['b', 'a']);
    expect(out.total).toBe(2);
  });

  it('keeps a new proposal out when a filter excludes it', () => {
    const s = two();
    const q = { ...newest, category: 'health' };
    expect(applyEvent(s, { type: 'proposal.created', proposal: summary('c') }, q)).toBe(s);
    const fr = { ...newest, language: 'fr' };
    expect(applyEvent(s, { type: 'proposal.created', proposal: summary('c', { language: 'it' }) }, fr)).toBe(s);
    const org = { ...newest, organisation: 'o2' };
    expect(applyEvent(s, { type: 'proposal.created', proposal: summary('c') }, org)).toBe(s);
  });

  it('inserts a matching proposal under filters', () => {
    const q = { ...newest, language: 'fr' };
    const out = applyEvent(list([]), { type: 'proposal.created', proposal: summary('c', { language: 'fr' }) }, q);
    expect(out.items.map((p) => p.id)).toEqual(['c']);
  });

  it('offers a refresh instead of guessing the place in another order or under a search', () => {
    const ev: ForumEvent = { type: 'proposal.created', proposal: summary('c', { createdAt: '2025-03-03T10:00:00Z' }) };
    for (const q of [{ ...newest, sort: 'supports' as const }, { ...newest, q: 'scuola' }]) {
      const once = applyEvent(two(), ev, q);
      expect(once.items.map((p) => p.id)).toEqual(['b', 'a']);
      expect(once.unseen).toEqual(['c']);
      expect(applyEvent(once, ev, q)).toBe(once); // counted once
    }
  });

  it('leaves an older new proposal to later pages when more are to come', () => {
    const s = list([summary('b', { createdAt: '2025-03-02T10:00:00Z' })], 'cursor-1', 5);
    const ev: ForumEvent = { type: 'proposal.created', proposal: summary('old', { createdAt: '2025-01-01T00:00:00Z' }) };
    const out = applyEvent(s, ev, newest);
    expect(out.items.map((p) => p.id)).toEqual(['b']);
    expect(out.unseen).toEqual(['old']);
    // On the last page it goes at the end.
    const last = applyEvent(list([summary('b', { createdAt: '2025-03-02T10:00:00Z' })]), ev, newest);
    expect(last.items.map((p) => p.id)).toEqual(['b', 'old']);
  });

  it('replaces an updated proposal in place, idempotently, and ignores unknown ones', () => {
    const ev: ForumEvent = {
      type: 'proposal.updated',
      proposal: summary('a', { title: 'Nuovo titolo', createdAt: '2025-03-01T10:00:00Z' }),
    };
    const once = applyEvent(two(), ev, newest);
    expect(once.items[1].title).toBe('Nuovo titolo');
    expect(applyEvent(once, ev, newest)).toBe(once);
    const s = two();
    expect(applyEvent(s, { type: 'proposal.updated', proposal: summary('zzz') }, newest)).toBe(s);
  });

  it('removes a proposal that no longer matches the filters (withdrawn, hidden)', () => {
    const q = { ...newest, status: 'submitted' };
    const s = list([summary('a')]);
    const out = applyEvent(s, { type: 'proposal.updated', proposal: summary('a', { status: 'withdrawn' }) }, q);
    expect(out.items).toEqual([]);
    expect(out.total).toBe(0);
    expect(applyEvent(out, { type: 'proposal.updated', proposal: summary('a', { status: 'withdrawn' }) }, q)).toBe(out);
    const hidden = applyEvent(list([summary('a')]), { type: 'proposal.updated', proposal: summary('a', { hidden: true }) }, newest);
    expect(hidden.items).toEqual([]);
  });

  it('ignores forum.updated and malformed events', () => {
    const s = two();
    expect(applyEvent(s, { type: 'forum.updated', forum: {} as never }, newest)).toBe(s);
    expect(applyEvent(s, null, newest)).toBe(s);
    expect(applyEvent(s, { type: 'proposal.created' } as never, newest)).toBe(s);
  });
});

describe('pages', () => {
  it('appends a page without the items already shown', () => {
    const s = fromPage({ items: [summary('c'), summary('b')], next: 'n1', total: 4 });
    const out = appendPage(s, { items: [summary('b'), summary('a')], total: 4 });
    expect(out.items.map((p) => p.id)).toEqual(['c', 'b', 'a']);
    expect(out.next).toBeNull();
  });

  it('builds the API and address queries', () => {
    const q: ListQuery = { ...emptyQuery(), q: ' ecole ', category: 'school', sort: 'random', seed: 's1' };
    expect(queryParams(q, 'cur').toString()).toBe('q=ecole&category=school&sort=random&seed=s1&cursor=cur&limit=20');
    expect(queryParams(emptyQuery()).toString()).toBe('limit=20');
    expect(urlParams(q).toString()).toBe('q=ecole&category=school&sort=random');
    const back = queryFromURL(new URLSearchParams('q=ecole&sort=bogus&status=accepted'), 'seed');
    expect(back).toMatchObject({ q: 'ecole', sort: 'newest', status: 'accepted', seed: 'seed' });
  });
});

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

describe('ProposalFeed', () => {
  it('replays events received during a request on its answer', async () => {
    const pending = deferred<ProposalPage>();
    const states: ListState[] = [];
    const feed = new ProposalFeed(() => pending.promise, (s) => states.push(s));
    const done = feed.reload();
    expect(feed.loading).toBe(true);
    // The answer was read before these events:
    feed.apply({ type: 'proposal.counts', id: 'a', supports: 2, comments: 0 });
    feed.apply({ type: 'proposal.created', proposal: summary('c', { createdAt: '2025-03-05T00:00:00Z' }) });
    pending.resolve({ items: [summary('a')], total: 1 });
    await done;
    expect(feed.loading).toBe(false);
    expect(feed.state.items.map((p) => [p.id, p.supports])).toEqual([
      ['c', 0],
      ['a', 2],
    ]);
    expect(feed.state.total).toBe(2);
    // The same events again (a resumed subscription overlapping) change nothing.
    const before = feed.state;
    feed.apply({ type: 'proposal.counts', id: 'a', supports: 2, comments: 0 });
    feed.apply({ type: 'proposal.created', proposal: summary('c', { createdAt: '2025-03-05T00:00:00Z' }) });
    expect(feed.state).toBe(before);
    expect(states.at(-1)).toBe(before);
  });

  it('drops the answer of a request overtaken by a newer query', async () => {
    const first = deferred<ProposalPage>();
    const second = deferred<ProposalPage>();
    const calls: ListQuery[] = [];
    const answers = [first.promise, second.promise];
    const feed = new ProposalFeed((q) => (calls.push(q), answers.shift()!), () => {});
    const a = feed.reload({ ...emptyQuery(), q: 'old' });
    const b = feed.reload({ ...emptyQuery(), q: 'new' });
    second.resolve({ items: [summary('new')], total: 1 });
    await b;
    first.resolve({ items: [summary('old')], total: 1 });
    await a;
    expect(calls.map((q) => q.q)).toEqual(['old', 'new']);
    expect(feed.state.items.map((p) => p.id)).toEqual(['new']);
    expect(feed.loading).toBe(false);
  });

  it('loads more with the cursor and keeps counts that arrived meanwhile', async () => {
    const pages: Array<Promise<ProposalPage>> = [Promise.resolve({ items: [summary('b')], next: 'c1', total: 2 })];
    const more = deferred<ProposalPage>();
    pages.push(more.promise);
    const cursors: Array<string | null> = [];
    const feed = new ProposalFeed((_q, cursor) => (cursors.push(cursor), pages.shift()!), () => {});
    await feed.reload();
    const added = feed.more();
    feed.apply({ type: 'proposal.counts', id: 'a', supports: 7, comments: 1 });
    more.resolve({ items: [summary('a', { supports: 6 })], total: 2 });
    expect(await added).toBe(1);
    expect(cursors).toEqual([null, 'c1']);
    expect(feed.state.items.map((p) => [p.id, p.supports])).toEqual([
      ['b', 0],
      ['a', 7],
    ]);
    expect(feed.state.next).toBeNull();
    expect(await feed.more()).toBe(0); // the last page
  });

  it('reports a failed request and stays usable', async () => {
    const feed = new ProposalFeed(() => Promise.reject(new Error('down')), () => {});
    await expect(feed.reload()).rejects.toThrow('down');
    expect(feed.loading).toBe(false);
    expect(feed.state).toEqual(emptyList());
  });
});
