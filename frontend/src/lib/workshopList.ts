// What the forum page needs of workshops (its list of workshops, their phase and output links),
// apart from workshops.ts so the forum page's chunk stays small.
import { t } from './i18n/index.svelte';
import type { WorkshopSummary } from './workshops';

// --- links -------------------------------------------------------------------------------------

export type ExportFormat = 'md' | 'csv' | 'json' | 'html';

/** exportLink: the workshop's output in a format (csv: `part` = cards, votes or actions). */
export function exportLink(id: string, format: ExportFormat, part?: 'cards' | 'votes' | 'actions'): string {
  const base = `/api/v1/workshops/${encodeURIComponent(id)}/export.${format}`;
  return part ? `${base}?part=${part}` : base;
}

export function workshopPath(id: string): string {
  return `/workshops/${encodeURIComponent(id)}`;
}

/** groupWorkshops: a forum's workshops: running or upcoming (soonest first), then closed (latest first). */
export function groupWorkshops(list: readonly WorkshopSummary[]): { open: WorkshopSummary[]; closed: WorkshopSummary[] } {
  const at = (w: WorkshopSummary) => Date.parse(w.scheduledAt) || 0;
  return {
    open: list.filter((w) => w.phase !== 'closed').sort((a, b) => at(a) - at(b)),
    closed: list.filter((w) => w.phase === 'closed').sort((a, b) => at(b) - at(a)),
  };
}

const phaseKeys: Record<string, string> = {
  lobby: 'wsphase.lobby',
  brainstorm: 'wsphase.brainstorm',
  reveal: 'wsphase.reveal',
  cluster: 'wsphase.cluster',
  vote: 'wsphase.vote',
  plan: 'wsphase.plan',
  closed: 'wsphase.closed',
};

/** phaseLabel: a workshop phase in the reader's language. */
export function phaseLabel(p: string): string {
  const k = phaseKeys[p];
  return k ? t(k) : p;
}
