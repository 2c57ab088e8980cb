// Forums and proposals: catalogue text for their enumerated values (literal keys, so the
// catalogue test sees them), texts in several languages, and the date fields of the forum form.
import { t } from './i18n/index.svelte';
import { DEFAULT_LANGUAGE, ENDONYMS, LANGUAGES, isLanguage } from './i18n/languages';
import type { ProposalSort, Texts } from './types';

/** The categories a new forum starts with (the server's insieme.DefaultCategories). */
export const DEFAULT_CATEGORIES = ['housing', 'work', 'school', 'health', 'documents', 'culture'] as const;

export const PROPOSAL_STATUSES = ['submitted', 'evaluation', 'accepted', 'rejected', 'implemented', 'withdrawn'] as const;
export const FORUM_STATUSES = ['draft', 'open', 'closed'] as const;

const categoryKeys: Record<string, string> = {
  housing: 'category.housing',
  work: 'category.work',
  school: 'category.school',
  health: 'category.health',
  documents: 'category.documents',
  culture: 'category.culture',
};

/** categoryLabel: the catalogue's name of a known category, else the forum's own key. */
export function categoryLabel(key: string): string {
  const k = categoryKeys[key];
  return k ? t(k) : key;
}

const proposalStatusKeys: Record<string, string> = {
  submitted: 'proposalstatus.submitted',
  evaluation: 'proposalstatus.evaluation',
  accepted: 'proposalstatus.accepted',
  rejected: 'proposalstatus.rejected',
  implemented: 'proposalstatus.implemented',
  withdrawn: 'proposalstatus.withdrawn',
};

export function proposalStatusLabel(s: string): string {
  const k = proposalStatusKeys[s];
  return k ? t(k) : s;
}

const forumStatusKeys: Record<string, string> = {
  draft: 'forumstatus.draft',
  open: 'forumstatus.open',
  closed: 'forumstatus.closed',
};

export function forumStatusLabel(s: string): string {
  const k = forumStatusKeys[s];
  return k ? t(k) : s;
}

const sortKeys: Record<ProposalSort, string> = {
  newest: 'sort.newest',
  supports: 'sort.supports',
  comments: 'sort.comments',
  random: 'sort.random',
};

export function sortLabel(s: ProposalSort): string {
  return t(sortKeys[s]);
}

export function languageName(l: string): string {
  return isLanguage(l) ? ENDONYMS[l] : l;
}

export interface Picked {
  text: string;
  /** the language of the text shown ('' when there is none) */
  lang: string;
  /** true when it is not the reader's language */
  other: boolean;
}

/**
 * pickText chooses the text of a Texts map to show: the reader's language, else Italian, else any
 * (the first in the interface's order, so the choice is stable).
 */
export function pickText(texts: Texts | null | undefined, reader: string): Picked {
  const m = texts ?? {};
  const order = [reader, DEFAULT_LANGUAGE, ...LANGUAGES, ...Object.keys(m).sort()];
  for (const l of order) {
    const s = m[l];
    if (typeof s === 'string' && s.trim() !== '') return { text: s, lang: l, other: l !== reader };
  }
  return { text: '', lang: '', other: false };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** dateInput turns an API time into the YYYY-MM-DD of an <input type="date"> (local day). */
export function dateInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function parseDay(day: string): [number, number, number] | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
}

/**
 * dayStart: the opening date as a time (the start of that local day); null for an empty field,
 * undefined for something that is not a date (the caller sends it as is, and the API says so).
 */
export function dayStart(day: string): string | null | undefined {
  if (!day.trim()) return null;
  const p = parseDay(day);
  if (!p) return undefined;
  return new Date(p[0], p[1], p[2], 0, 0, 0).toISOString();
}

/** dayEnd: the closing date as a time: the last minute of that local day (it is the last day). */
export function dayEnd(day: string): string | null | undefined {
  if (!day.trim()) return null;
  const p = parseDay(day);
  if (!p) return undefined;
  return new Date(p[0], p[1], p[2], 23, 59, 0).toISOString();
}

/** wholeNumber reads an integer field; other text is returned as is (the API answers invalid_type). */
export function wholeNumber(s: string): number | string {
  const v = s.trim();
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/** categoryList: the checked categories followed by the other ones typed, comma separated. */
export function categoryList(checked: readonly string[], others: string): string[] {
  const out: string[] = [];
  for (const c of [...checked, ...others.split(/[,،、，]/)]) {
    const k = c.trim().toLowerCase();
    if (k && !out.includes(k)) out.push(k);
  }
  return out;
}
