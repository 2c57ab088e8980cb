// Catalogue text for the enumerated values of live sessions (literal keys, so the catalogue test
// sees them).
import { t } from './i18n/index.svelte';
import type { RoomProblem } from './sessionRoom.svelte';
import type { PollKind } from './sessions';

const statusKeys: Record<string, string> = {
  scheduled: 'sessionstatus.scheduled',
  live: 'sessionstatus.live',
  ended: 'sessionstatus.ended',
};

export function statusLabel(s: string): string {
  const k = statusKeys[s];
  return k ? t(k) : s;
}

const modeKeys: Record<string, string> = {
  in_person: 'sessionmode.in_person',
  hybrid: 'sessionmode.hybrid',
  online: 'sessionmode.online',
};

export function modeLabel(m: string): string {
  const k = modeKeys[m];
  return k ? t(k) : m;
}

const kindKeys: Record<PollKind, string> = {
  single: 'pollkind.single',
  multiple: 'pollkind.multiple',
  ranking: 'pollkind.ranking',
  scale: 'pollkind.scale',
  words: 'pollkind.words',
};

export function pollKindLabel(k: string): string {
  const key = kindKeys[k as PollKind];
  return key ? t(key) : k;
}

const pollStatusKeys: Record<string, string> = {
  draft: 'pollstatus.draft',
  open: 'pollstatus.open',
  closed: 'pollstatus.closed',
};

export function pollStatusLabel(s: string): string {
  const k = pollStatusKeys[s];
  return k ? t(k) : s;
}

const problemKeys: Record<Exclude<RoomProblem, ''>, string> = {
  join: 'room.problemJoin',
  expired: 'room.problemExpired',
  removed: 'room.problemRemoved',
  signedOut: 'room.problemSignedOut',
  not_found: 'room.problemNotFound',
  forbidden: 'room.problemForbidden',
};

export function problemText(p: RoomProblem): string {
  return p ? t(problemKeys[p]) : '';
}
