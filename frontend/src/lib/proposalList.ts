// A forum's proposal list: the page's query (search, filters, sort, seed), the loaded pages, and
// the live events of the `forum:<id>` room applied to them.
//
// The room sends absolute values and ids ("proposal X now has 3 supports", "proposal X is now
// ..."), and a snapshot may already include the effect of the first events that follow it, so
// every event is applied idempotently: the same event twice leaves the list as the first left it.
import type { ForumEvent, ProposalPage, ProposalSort, ProposalSummary } from './types';

export const SORTS: readonly ProposalSort[] = ['newest', 'supports', 'comments', 'random'];

export interface ListQuery {
  q: string;
  category: string;
  status: string;
  language: string;
  organisation: string;
  sort: ProposalSort;
  /** random order: the same seed gives the same order while paging (kept for the visit) */
  seed: string;
}

export interface ListState {
  items: ProposalSummary[];
  total: number;
  /** cursor of the next page, null on the last */
  next: string | null;
  /** new proposals that arrived live but could not be placed in this order (ids) */
  unseen: string[];
}

export const PAGE_SIZE = 20;

export function emptyQuery(): ListQuery {
  return { q: '', category: '', status: '', language: '', organisation: '', sort: 'newest', seed: '' };
}

export function emptyList(): ListState {
  return { items: [], total: 0, next: null, unseen: [] };
}

/** fromPage makes the list of a first page. */
export function fromPage(page: ProposalPage): ListState {
  return { items: dedupe(page.items ?? []), total: page.total ?? 0, next: page.next || null, unseen: [] };
}

/** appendPage adds a following page, skipping items already shown (a new proposal shifts pages). */
export function appendPage(state: ListState, page: ProposalPage): ListState {
  const have = new Set(state.items.map((p) => p.id));
  const added = (page.items ?? []).filter((p) => !have.has(p.id));
  return { ...state, items: [...state.items, ...dedupe(added)], total: page.total ?? state.total, next: page.next || null };
}

function dedupe(items: ProposalSummary[]): ProposalSummary[] {
  const seen = new Set<string>();
  return items.filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
}

/** matchesFilters: whether a proposal passes the category, status, language and association filters. */
export function matchesFilters(p: ProposalSummary, q: ListQuery): boolean {
  if (p.hidden) return false;
  if (q.category && p.category !== q.category) return false;
  if (q.status && p.status !== q.status) return false;
  if (q.language && p.language !== q.language) return false;
  if (q.organisation && p.organisation?.id !== q.organisation) return false;
  return true;
}

function time(iso: string): number {
  const n = Date.parse(iso);
  return Number.isNaN(n) ? 0 : n;
}

/** applyEvent applies one live event to the list (pure; returns the same object when nothing changes). */
export function applyEvent(state: ListState, ev: ForumEvent | null | undefined, query: ListQuery): ListState {
  if (!ev || typeof ev !== 'object') return state;
  switch (ev.type) {
    case 'proposal.counts': {
      const i = state.items.findIndex((p) => p.id === ev.id);
      if (i < 0) return state;
      const cur = state.items[i];
      if (cur.supports === ev.supports && cur.comments === ev.comments) return state;
      const items = state.items.slice();
      items[i] = { ...cur, supports: ev.supports, comments: ev.comments };
      return { ...state, items };
    }
    case 'proposal.created':
    case 'proposal.updated': {
      const p = ev.proposal;
      if (!p || !p.id) return state;
      const i = state.items.findIndex((x) => x.id === p.id);
      if (i >= 0) {
        if (!matchesFilters(p, query)) {
          // It no longer belongs here (withdrawn under a status filter, hidden for review...).
          const items = state.items.filter((x) => x.id !== p.id);
          return { ...state, items, total: Math.max(0, state.total - 1) };
        }
        if (sameSummary(state.items[i], p)) return state;
        const items = state.items.slice();
        items[i] = p;
        return { ...state, items };
      }
      if (ev.type === 'proposal.updated') return state; // not loaded (a later page, or filtered out)
      if (!matchesFilters(p, query)) return state;
      if (query.sort === 'newest' && !query.q.trim()) {
        // Newest first: place it by date among what is loaded; past the end only on the last page.
        const t = time(p.createdAt);
        let at = state.items.findIndex((x) => time(x.createdAt) < t);
        if (at < 0) {
          if (state.next) return noteUnseen(state, p.id);
          at = state.items.length;
        }
        const items = state.items.slice();
        items.splice(at, 0, p);
        return { ...state, items, total: state.total + 1, unseen: state.unseen.filter((id) => id !== p.id) };
      }
      // Another order, or a search the browser cannot evaluate: offer to refresh instead.
      return noteUnseen(state, p.id);
    }
    default:
      return state;
  }
}

function noteUnseen(state: ListState, id: string): ListState {
  if (state.unseen.includes(id)) return state;
  return { ...state, unseen: [...state.unseen, id] };
}

function sameSummary(a: ProposalSummary, b: ProposalSummary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** queryParams builds the API query of a list request. */
export function queryParams(q: ListQuery, cursor?: string | null, limit = PAGE_SIZE): URLSearchParams {
  const p = new URLSearchParams();
  if (q.q.trim()) p.set('q', q.q.trim());
  if (q.category) p.set('category', q.category);
  if (q.status) p.set('status', q.status);
  if (q.language) p.set('language', q.language);
  if (q.organisation) p.set('organisation', q.organisation);
  if (q.sort !== 'newest') p.set('sort', q.sort);
  if (q.sort === 'random' && q.seed) p.set('seed', q.seed);
  if (cursor) p.set('cursor', cursor);
  p.set('limit', String(limit));
  return p;
}

/** urlParams: the query as the page's address shows it (no defaults, no seed, no paging). */
export function urlParams(q: ListQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (q.q.trim()) p.set('q', q.q.trim());
  if (q.category) p.set('category', q.category);
  if (q.status) p.set('status', q.status);
  if (q.language) p.set('language', q.language);
  if (q.sort !== 'newest') p.set('sort', q.sort);
  return p;
}

/** queryFromURL reads the query back from the page's address. */
export function queryFromURL(search: URLSearchParams, seed: string): ListQuery {
  const sort = search.get('sort') as ProposalSort | null;
  return {
    q: search.get('q') ?? '',
    category: search.get('category') ?? '',
    status: search.get('status') ?? '',
    language: search.get('language') ?? '',
    organisation: '',
    sort: sort && SORTS.includes(sort) ? sort : 'newest',
    seed,
  };
}

/**
 * ProposalFeed loads pages and applies live events. Events that arrive while a request is on its
 * way are applied at once to what is shown and again to the answer when it comes (the answer may
 * have been read before them), so nothing is lost and nothing is counted twice. An answer to a
 * request overtaken by a newer query is dropped.
 */
export class ProposalFeed {
  state: ListState = emptyList();
  loading = false;
  private generation = 0;
  private inflight = 0;
  private buffer: ForumEvent[] = [];

  constructor(
    private fetchPage: (query: ListQuery, cursor: string | null) => Promise<ProposalPage>,
    private onChange: (state: ListState, loading: boolean) => void,
    public query: ListQuery = emptyQuery(),
  ) {}

  private set(state: ListState): void {
    this.state = state;
    this.onChange(state, this.loading);
  }

  private begin(): void {
    if (this.inflight === 0) this.buffer = [];
    this.inflight++;
    this.loading = true;
  }

  private end(): void {
    this.inflight = Math.max(0, this.inflight - 1);
    if (this.inflight === 0) {
      this.buffer = [];
      this.loading = false;
    }
  }

  private replay(state: ListState): ListState {
    let s = state;
    for (const ev of this.buffer) s = applyEvent(s, ev, this.query);
    return s;
  }

  /** reload fetches the first page of the current (or a new) query, replacing the list. */
  async reload(query: ListQuery = this.query): Promise<void> {
    this.query = query;
    const gen = ++this.generation;
    this.begin();
    this.onChange(this.state, this.loading);
    let page: ProposalPage;
    try {
      page = await this.fetchPage(query, null);
    } catch (e) {
      this.end();
      if (gen === this.generation) this.onChange(this.state, this.loading);
      throw e;
    }
    const s = gen === this.generation ? this.replay(fromPage(page)) : null;
    this.end();
    if (s) this.set(s);
  }

  /** more fetches the next page and appends it; returns how many items were added. */
  async more(): Promise<number> {
    const cursor = this.state.next;
    if (!cursor) return 0;
    const gen = this.generation;
    this.begin();
    this.onChange(this.state, this.loading);
    let page: ProposalPage;
    try {
      page = await this.fetchPage(this.query, cursor);
    } catch (e) {
      this.end();
      this.onChange(this.state, this.loading);
      throw e;
    }
    if (gen !== this.generation) {
      this.end();
      return 0;
    }
    const before = this.state.items.length;
    const s = this.replay(appendPage(this.state, page));
    this.end();
    this.set(s);
    return s.items.length - before;
  }

  /** apply takes one event of the forum room. */
  apply(ev: ForumEvent): void {
    if (this.inflight > 0) this.buffer.push(ev);
    const s = applyEvent(this.state, ev, this.query);
    if (s !== this.state) this.set(s);
  }
}

/** newSeed makes a random-order seed. */
export function newSeed(): string {
  const a = new Uint32Array(2);
  globalThis.crypto.getRandomValues(a);
  return a[0].toString(36) + a[1].toString(36);
}

const SEED_KEY = 'insieme.seed';

/** visitSeed is the random-order seed of this visit (the tab's session), made once. */
export function visitSeed(): string {
  try {
    const s = sessionStorage.getItem(SEED_KEY);
    if (s) return s;
    const n = newSeed();
    sessionStorage.setItem(SEED_KEY, n);
    return n;
  } catch {
    return fallbackSeed ?? (fallbackSeed = newSeed());
  }
}
let fallbackSeed: string | null = null;
