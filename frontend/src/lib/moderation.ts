// Catalogue text for discussion, moderation and notification values (literal keys, so the
// catalogue test sees them).
import { t } from './i18n/index.svelte';

export const REPORT_REASONS = ['spam', 'offensive', 'personal_data', 'other'] as const;
export const CASE_ACTIONS = ['hide', 'restore', 'dismiss'] as const;
export const STANCES = ['neutral', 'for', 'against'] as const;
export const ANSWER_STATUSES = ['evaluation', 'accepted', 'rejected', 'implemented'] as const;

const pick = (table: Record<string, string>, v: string) => (table[v] ? t(table[v]) : v);

const stanceKeys: Record<string, string> = {
  for: 'stance.for',
  against: 'stance.against',
  neutral: 'stance.neutral',
};
export const stanceLabel = (s: string) => pick(stanceKeys, s);

const reasonKeys: Record<string, string> = {
  spam: 'reason.spam',
  offensive: 'reason.offensive',
  personal_data: 'reason.personal_data',
  other: 'reason.other',
};
export const reasonLabel = (r: string) => pick(reasonKeys, r);

const caseStatusKeys: Record<string, string> = {
  open: 'casestatus.open',
  hidden: 'casestatus.hidden',
  restored: 'casestatus.restored',
  dismissed: 'casestatus.dismissed',
};
export const caseStatusLabel = (s: string) => pick(caseStatusKeys, s);

const actionKeys: Record<string, string> = {
  hide: 'caseaction.hide',
  restore: 'caseaction.restore',
  dismiss: 'caseaction.dismiss',
  auto_hide: 'caseaction.auto_hide',
  queue: 'caseaction.queue',
  appeal: 'caseaction.appeal',
};
export const actionLabel = (a: string) => pick(actionKeys, a);

const notificationKeys: Record<string, string> = {
  'proposal.answer': 'notifkind.answer',
  'proposal.update': 'notifkind.update',
  'comment.reply': 'notifkind.reply',
  moderation: 'notifkind.moderation',
};
export const notificationLabel = (k: string) => pick(notificationKeys, k);

/**
 * caseSegment encodes a case id ("<kind>:<content id>") for a path. The colon is kept as it is
 * (a valid path character, as Go's url.PathEscape leaves it): the server does not decode %3A in
 * a path parameter, so an encoded colon would not find the case.
 */
export function caseSegment(caseId: string): string {
  return encodeURIComponent(caseId).replace(/%3A/gi, ':');
}

/** caseHref: the page of a moderation case. */
export function caseHref(caseId: string): string {
  return `/moderation/${caseSegment(caseId)}`;
}
