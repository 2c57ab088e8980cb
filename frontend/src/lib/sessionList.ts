// The few session helpers the forum page needs (its list of sessions), apart from sessions.ts
// so the forum page's chunk stays small.
import type { LiveSession, LocalText } from './sessions';

/** textOf: a LocalText in the reader's language (else Italian, else any), with its language. */
export function textOf(x: LocalText | null | undefined, reader: string): { text: string; lang: string } {
  if (typeof x === 'string') return { text: x, lang: '' };
  const m = x ?? {};
  for (const l of [reader, 'it', ...Object.keys(m).sort()]) {
    const s = m[l];
    if (typeof s === 'string' && s.trim() !== '') return { text: s, lang: l };
  }
  return { text: '', lang: '' };
}

/** groupSessions sorts a forum's sessions: live now, upcoming (soonest first), ended (latest first). */
export function groupSessions(list: readonly LiveSession[]): { live: LiveSession[]; upcoming: LiveSession[]; ended: LiveSession[] } {
  const at = (s: LiveSession) => Date.parse(s.scheduledAt) || 0;
  return {
    live: list.filter((s) => s.status === 'live').sort((a, b) => at(a) - at(b)),
    upcoming: list.filter((s) => s.status === 'scheduled').sort((a, b) => at(a) - at(b)),
    ended: list.filter((s) => s.status === 'ended').sort((a, b) => (Date.parse(b.endedAt ?? '') || at(b)) - (Date.parse(a.endedAt ?? '') || at(a))),
  };
}

/** minutesHtmlLink: the printable minutes of an ended session. */
export function minutesHtmlLink(id: string): string {
  return `/api/v1/sessions/${encodeURIComponent(id)}/minutes.html`;
}

/** minutesLink: where the minutes of an ended session are downloaded (Markdown). */
export function minutesLink(id: string): string {
  return `/api/v1/sessions/${encodeURIComponent(id)}/minutes.md`;
}
