// Catalogue text for the enumerated values of workshops (literal keys, so the catalogue test
// sees them).
import type { ApiError } from './api';
import { errorMessage, fieldMessage } from './errors';
import { t } from './i18n/index.svelte';
import { phaseLabel } from './workshopList';
import { dotRefusal } from './workshops';

export { phaseLabel };

const phaseHelpKeys: Record<string, string> = {
  lobby: 'wshelp.lobby',
  brainstorm: 'wshelp.brainstorm',
  reveal: 'wshelp.reveal',
  cluster: 'wshelp.cluster',
  vote: 'wshelp.vote',
  plan: 'wshelp.plan',
  closed: 'wshelp.closed',
};

/** phaseHelp: one sentence saying what happens in a phase. */
export function phaseHelp(p: string): string {
  const k = phaseHelpKeys[p];
  return k ? t(k) : '';
}

const colourKeys: Record<string, string> = {
  yellow: 'wscolour.yellow',
  pink: 'wscolour.pink',
  blue: 'wscolour.blue',
  green: 'wscolour.green',
  orange: 'wscolour.orange',
  purple: 'wscolour.purple',
};

export function colourLabel(c: string): string {
  const k = colourKeys[c];
  return k ? t(k) : c;
}

const statusKeys: Record<string, string> = {
  open: 'wsstatus.open',
  in_progress: 'wsstatus.in_progress',
  done: 'wsstatus.done',
};

export function actionStatusLabel(s: string): string {
  const k = statusKeys[s];
  return k ? t(k) : s;
}

/**
 * wsErrorText: a refused workshop message in the reader's language: the dot budget, the
 * per-card maximum, a phase that does not allow it, the locked board, a field over its limit,
 * else the API's error code.
 */
export function wsErrorText(e: ApiError | null | undefined, locked = false): string {
  if (!e) return '';
  const dot = dotRefusal(e);
  if (dot === 'budget') return t('ws.noDotsLeft');
  if (dot === 'perCard') return t('ws.maxPerCard', { n: e.limits.maxDotsPerCard });
  if (e.code === 'conflict' && e.fields.phase) return t('ws.notInPhase', { phase: phaseLabel(e.fields.phase) });
  if (e.code === 'conflict' && locked) return t('ws.lockedError');
  for (const f of ['text', 'name', 'title', 'resources']) {
    const m = fieldMessage(e, f);
    if (m) return m;
  }
  return errorMessage(e);
}
