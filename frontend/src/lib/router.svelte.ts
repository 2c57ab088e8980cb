// A tiny client-side router on the History API. Internal <a href="/..."> clicks are intercepted
// globally, so pages use plain links (which also work with a middle click or "open in new tab").
import { clearStatus } from './status.svelte';

export interface RouteState {
  path: string;
  search: URLSearchParams;
  hash: string;
  /** increases at every navigation (lets the app move focus to the new page's heading) */
  count: number;
}

export const route = $state<RouteState>({
  path: typeof location !== 'undefined' ? location.pathname : '/',
  search: new URLSearchParams(typeof location !== 'undefined' ? location.search : ''),
  hash: typeof location !== 'undefined' ? location.hash : '',
  count: 0,
});

function searchString(): string {
  const s = route.search.toString();
  return s ? `?${s}` : '';
}

function sync(): void {
  route.path = location.pathname;
  route.search = new URLSearchParams(location.search);
  route.hash = location.hash;
  route.count++;
}

export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  if (opts.replace) history.replaceState(null, '', url.pathname + url.search + url.hash);
  else history.pushState(null, '', url.pathname + url.search + url.hash);
  clearStatus();
  sync();
  if (!url.hash) window.scrollTo(0, 0);
}

/**
 * replaceQuery puts a page's own state (search text, filters) in the address without a new
 * history entry and without a navigation: the page stays as it is, and a reload or a shared link
 * opens it the same way.
 */
export function replaceQuery(params: URLSearchParams): void {
  const qs = params.toString();
  const url = location.pathname + (qs ? `?${qs}` : '') + location.hash;
  if (url === location.pathname + location.search + location.hash) return;
  history.replaceState(history.state, '', url);
  route.search = new URLSearchParams(qs);
}

/** param reads a value from the query (?token=...) or, failing that, the hash (#token=...). */
export function param(name: string): string | null {
  const q = route.search.get(name);
  if (q) return q;
  const h = route.hash.replace(/^#/, '');
  if (!h) return null;
  return new URLSearchParams(h).get(name);
}

/** Paths the server answers itself (not SPA pages). */
function isServerPath(path: string): boolean {
  return path.startsWith('/api/') || path === '/ws' || path === '/healthz' || path === '/readyz' || path === '/metrics';
}

function onClick(ev: MouseEvent): void {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = (ev.target as Element | null)?.closest?.('a');
  if (!a || !a.href) return;
  if (a.target && a.target !== '_self') return;
  if (a.hasAttribute('download') || a.getAttribute('rel')?.includes('external')) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || isServerPath(url.pathname)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page anchor
  ev.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

let started = false;

export function startRouter(): void {
  if (started) return;
  started = true;
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', () => {
    // An in-page anchor (skip link, table of contents) changes only the hash: same page.
    if (location.pathname === route.path && location.search === searchString()) {
      route.hash = location.hash;
      return;
    }
    clearStatus();
    sync();
  });
}

export interface Match {
  name: string;
  params: Record<string, string>;
}

const table: Array<[RegExp, string, string[]]> = [
  [/^\/$/, 'home', []],
  [/^\/signup\/?$/, 'signup', []],
  [/^\/signin\/?$/, 'signin', []],
  [/^\/forgot\/?$/, 'forgot', []],
  [/^\/reset\/?$/, 'reset', []],
  [/^\/confirm\/?$/, 'confirm', []],
  [/^\/account\/?$/, 'account', []],
  [/^\/organisations\/?$/, 'organisations', []],
  [/^\/organisations\/new\/?$/, 'createOrg', []],
  [/^\/organisations\/([^/]+)\/?$/, 'organisation', ['id']],
  [/^\/invitations\/?$/, 'invitations', []],
  [/^\/invite\/?$/, 'invite', []],
  [/^\/forums\/?$/, 'forums', []],
  [/^\/forums\/([^/]+)\/?$/, 'forum', ['id']],
  [/^\/forums\/([^/]+)\/moderation\/?$/, 'moderationQueue', ['id']],
  [/^\/forums\/([^/]+)\/overdue\/?$/, 'overdue', ['id']],
  [/^\/proposals\/([^/]+)\/?$/, 'proposal', ['id']],
  [/^\/notifications\/?$/, 'notifications', []],
  [/^\/moderation\/([^/]+)\/?$/, 'moderationCase', ['id']],
  [/^\/admin\/?$/, 'admin', []],
  [/^\/privacy\/?$/, 'privacy', []],
  [/^\/join\/?$/, 'join', []],
  [/^\/sessions\/([^/]+)\/?$/, 'sessionLive', ['id']],
  [/^\/sessions\/([^/]+)\/host\/?$/, 'sessionHost', ['id']],
  [/^\/sessions\/([^/]+)\/projector\/?$/, 'sessionProjector', ['id']],
  [/^\/workshops\/([^/]+)\/?$/, 'workshop', ['id']],
];

export function match(path: string): Match {
  for (const [re, name, keys] of table) {
    const m = re.exec(path);
    if (m) {
      const params: Record<string, string> = {};
      keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      return { name, params };
    }
  }
  return { name: 'notFound', params: {} };
}
