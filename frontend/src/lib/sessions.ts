// Live sessions (docs/PROTOCOL.md, "Live sessions"): every type the session pages use, and the
// pure parts of those pages: join codes, the clock correction and countdowns, ballots, tallies,
// question order, and the room state built from the snapshot and the events of `session:<id>`
// and `session-host:<id>`. Events carry absolute values ("the queue is now ...", "the tally is
// now ..."), so applying one twice, or one the snapshot already included, changes nothing.
//
// The Go side is internal/app/sessions.go (SessionView) and, as they land, polls, questions, the
// queue and presence: where a shape is not final yet, the reading here is tolerant and the
// assumed shape is written next to it.
import type { Texts } from './types';
import { textOf } from './sessionList';

// What the forum page needs is in sessionList.ts (a small chunk); the rest is here.
export { groupSessions, minutesHtmlLink, minutesLink, textOf } from './sessionList';

// --- sessions ----------------------------------------------------------------------------------

export type SessionStatus = 'scheduled' | 'live' | 'ended';
export const SESSION_MODES = ['in_person', 'hybrid', 'online'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

export interface AgendaItem {
  id: string;
  title: Texts;
  /** planned duration in minutes (0: none) */
  minutes: number;
}

/** Someone's turn on the floor. */
export interface Turn {
  participantId: string;
  name: string;
  startedAt: string;
  endedAt?: string;
}

export interface CoHost {
  id: string;
  displayName: string;
  former?: boolean;
}

/** A live session as GET /api/v1/sessions/{id} shows it (app.SessionView). */
export interface LiveSession {
  id: string;
  forumId: string;
  title: Texts;
  scheduledAt: string;
  mode: SessionMode | string;
  place?: string;
  streamUrl?: string;
  status: SessionStatus;
  /** the join code: hosts only, and "" once the session ended */
  code?: string;
  agenda: AgendaItem[];
  current?: string;
  currentSince?: string;
  floor?: Turn | null;
  guestsMayAsk: boolean;
  preModerate: boolean;
  coHosts?: CoHost[];
  startedAt?: string;
  endedAt?: string;
  host: boolean;
  version: number;
  /** the server's clock when the view was made: countdowns are corrected by it */
  serverTime: string;
  hasMinutes?: boolean;
  forumTitle?: Texts;
  participating?: boolean;
}

/** The session form (POST /forums/{id}/sessions, PATCH /sessions/{id}). */
export interface SessionBody {
  title?: Texts;
  scheduledAt?: string;
  mode?: string;
  place?: string;
  streamUrl?: string;
  agenda?: Array<{ id: string; title: Texts; minutes: number }>;
  coHosts?: string[];
  guestsMayAsk?: boolean;
  preModerate?: boolean;
}

/** Who the live connection or the join says one is. */
export interface LivePrincipal {
  id: string;
  accountId?: string;
  name: string;
  guest: boolean;
  admin?: boolean;
}

/** POST /api/v1/join answers this; token is set for guests only. */
export interface JoinResult {
  kind: 'session' | 'workshop' | string;
  id: string;
  token?: string;
  principal: LivePrincipal;
}

// --- polls -------------------------------------------------------------------------------------

export const POLL_KINDS = ['single', 'multiple', 'ranking', 'scale', 'words'] as const;
export type PollKind = (typeof POLL_KINDS)[number];
export type PollStatus = 'draft' | 'open' | 'closed';

/** A text in one or more languages (or a plain string). */
export type LocalText = string | Texts;

/**
 * Results as absolute tallies (app.ResultsView): `counts` are voters per option (a ranking: first
 * places), `points` Borda points per option (a ranking: a voter's first of n options gets n),
 * `distribution` voters per value 1–5 and `average` (a scale), `words` with their counts, most
 * frequent first (a word cloud); voters, guests and accounts apart; `final` once recounted from
 * the stored ballots at close.
 */
export interface PollResults {
  voters?: number;
  guests?: number;
  accounts?: number;
  counts?: number[];
  points?: number[];
  distribution?: number[];
  average?: number;
  /** older name of `average`, still read */
  mean?: number;
  words?: Array<{ word: string; count: number }>;
  final?: boolean;
}

/** A poll (app.PollView). */
export interface Poll {
  id: string;
  sessionId?: string;
  kind: PollKind;
  title: LocalText;
  options: LocalText[];
  maxChoices?: number;
  guestsMayVote: boolean;
  showResults: 'live' | 'closed';
  status: PollStatus;
  results?: PollResults | null;
  openedAt?: string;
  closedAt?: string;
  /** one's latest stored ballot (snapshots only) */
  mine?: Ballot | null;
  version?: number;
}

/** The poll form (poll.create). */
export interface PollDraft {
  kind: PollKind;
  title: Texts;
  options: Texts[];
  maxChoices: number;
  guestsMayVote: boolean;
  showResults: 'live' | 'closed';
}

/** One's own ballot, as `me.ballots` gives it and poll.vote sends it. */
export interface Ballot {
  choices?: number[];
  ranking?: number[];
  scale?: number;
  words?: string[];
  version?: number;
}

// --- questions, the queue, presence ------------------------------------------------------------

export type QuestionStatus = 'pending' | 'approved' | 'answered' | 'dismissed';

export interface Question {
  id: string;
  text: string;
  anonymous?: boolean;
  /** absent for anonymous questions */
  author?: { id: string; name: string; guest?: boolean; former?: boolean } | null;
  status: QuestionStatus;
  votes: number;
  createdAt: string;
  /** one's own question (snapshots, acks and one's participant room only) */
  mine?: boolean;
  /** one upvoted it (snapshots and acks only) */
  upvoted?: boolean;
}

export interface Hand {
  participantId: string;
  name: string;
  guest?: boolean;
  since: string;
}

export interface Presence {
  guests: number;
  accounts: number;
}

export interface Participant {
  id: string;
  name: string;
  guest: boolean;
}

/**
 * `me` of the room's snapshot: who one is. One's ballots come as each poll's `mine`, one's
 * upvotes and own questions as the questions' `upvoted` and `mine`; `ballots`, `upvotes` and
 * `pending` on `me` (PROTOCOL.md's first wording) are read too when present.
 */
export interface Me extends LivePrincipal {
  ballots?: Record<string, Ballot> | Array<Ballot & { poll: string }>;
  upvotes?: string[];
  pending?: Question[];
}

// --- join codes --------------------------------------------------------------------------------

/** The server's alphabet (insieme.JoinCodeAlphabet): no 0 O 1 I L U V. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXYZ';
export const CODE_LENGTH = 10;

/**
 * normaliseCode reads a typed code as the server does (upper case, spaces and dashes dropped),
 * also dropping the other dashes and spaces phones put in (non-breaking space, en dash...).
 */
export function normaliseCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\-\u2010-\u2015\u2212\u30fc_.]/g, '');
}

/** codeProblem says what is wrong with a normalised code before asking the server ('' if nothing). */
export function codeProblem(code: string): '' | 'required' | 'length' | 'letters' {
  if (!code) return 'required';
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return 'letters';
  if (code.length !== CODE_LENGTH) return 'length';
  return '';
}

/** formatCode groups a code for reading aloud and typing: ABC-DEF-GHJK (3, 3, 4 for ten letters). */
export function formatCode(code: string, sep = '-'): string {
  const c = normaliseCode(code);
  if (c.length !== CODE_LENGTH) return c.replace(/(.{4})(?=.)/g, `$1${sep}`);
  return `${c.slice(0, 3)}${sep}${c.slice(3, 6)}${sep}${c.slice(6)}`;
}

/** joinLink is the address a QR code on the projector opens. */
export function joinLink(origin: string, code: string): string {
  return `${origin}/join?code=${encodeURIComponent(normaliseCode(code))}`;
}

// --- the clock ---------------------------------------------------------------------------------

/**
 * clockSample: the server's clock minus ours, seen in one message (serverTime made at sending,
 * received at `receivedAt`). A message arrives late, never early, so a sample is at most the
 * true offset: the largest sample is the best estimate.
 */
export function clockSample(serverTime: string | undefined, receivedAt: number): number | null {
  if (!serverTime) return null;
  const t = Date.parse(serverTime);
  return Number.isNaN(t) ? null : t - receivedAt;
}

/** nextOffset keeps the largest sample; a snapshot (fresh: true) starts again from its own. */
export function nextOffset(current: number | null, sample: number | null, fresh = false): number | null {
  if (sample === null) return current;
  if (fresh || current === null) return sample;
  return Math.max(current, sample);
}

/** elapsedMs since an instant, on the server's clock (now is ours, offset = server − ours). */
export function elapsedMs(since: string | undefined | null, now: number, offset: number): number {
  if (!since) return 0;
  const t = Date.parse(since);
  if (Number.isNaN(t)) return 0;
  return Math.max(0, now + offset - t);
}

/** remainingMs of an agenda item planned for `minutes` from `since` (negative: over time). */
export function remainingMs(since: string | undefined | null, minutes: number, now: number, offset: number): number | null {
  if (!since || !(minutes > 0)) return null;
  const t = Date.parse(since);
  if (Number.isNaN(t)) return null;
  return t + minutes * 60_000 - (now + offset);
}

/**
 * formatClock writes a duration as m:ss or h:mm:ss, counting whole seconds down (a countdown
 * shows 0:01 until the last second is over). Negative durations are written without a sign: the
 * caller says "over time".
 */
export function formatClock(ms: number, roundUp = false): string {
  const abs = Math.abs(ms);
  const total = roundUp && ms > 0 ? Math.ceil(abs / 1000) : Math.floor(abs / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** currentItem: the agenda item running now, and its index (−1 for none). */
export function currentItem(s: LiveSession | null | undefined): { item: AgendaItem | null; index: number } {
  if (!s || !s.current) return { item: null, index: -1 };
  const index = s.agenda.findIndex((it) => it.id === s.current);
  return { item: index >= 0 ? s.agenda[index] : null, index };
}


// --- ballots -----------------------------------------------------------------------------------

/** What the ballot form holds. */
export interface BallotInput {
  choices: number[];
  ranking: number[];
  scale: number | null;
  words: string[];
}

export type BallotProblem = 'choose' | 'tooMany' | 'rankAll' | 'scale' | 'words' | 'wordTooLong';

export const MAX_WORDS = 3;
export const MAX_WORD_LENGTH = 30;
export const MAX_OPTIONS = 12;
export const MAX_QUESTION = 300;

export function emptyBallot(poll: Poll, mine?: Ballot | null): BallotInput {
  const n = poll.options.length;
  const ranking = mine?.ranking && mine.ranking.length === n ? [...mine.ranking] : Array.from({ length: n }, (_, i) => i);
  const words = [...(mine?.words ?? [])];
  while (words.length < MAX_WORDS) words.push('');
  return { choices: [...(mine?.choices ?? [])], ranking, scale: mine?.scale ?? null, words };
}

/**
 * buildBallot turns the form into the fields of a poll.vote message, or names what is missing.
 * Option indexes are checked against the poll; words are trimmed, and repeated ones (whatever
 * their case) sent once.
 */
export function buildBallot(
  poll: Poll,
  input: BallotInput,
): { ok: true; fields: Record<string, unknown> } | { ok: false; problem: BallotProblem } {
  const n = poll.options.length;
  const valid = (i: number) => Number.isInteger(i) && i >= 0 && i < n;
  switch (poll.kind) {
    case 'single': {
      const c = input.choices.filter(valid);
      if (c.length !== 1) return { ok: false, problem: 'choose' };
      return { ok: true, fields: { poll: poll.id, choices: [c[0]] } };
    }
    case 'multiple': {
      const c = [...new Set(input.choices.filter(valid))].sort((a, b) => a - b);
      if (c.length === 0) return { ok: false, problem: 'choose' };
      const max = poll.maxChoices && poll.maxChoices > 0 ? poll.maxChoices : n;
      if (c.length > max) return { ok: false, problem: 'tooMany' };
      return { ok: true, fields: { poll: poll.id, choices: c } };
    }
    case 'ranking': {
      const r = input.ranking.filter(valid);
      if (r.length !== n || new Set(r).size !== n) return { ok: false, problem: 'rankAll' };
      return { ok: true, fields: { poll: poll.id, ranking: r } };
    }
    case 'scale': {
      const v = input.scale;
      if (v === null || !Number.isInteger(v) || v < 1 || v > 5) return { ok: false, problem: 'scale' };
      return { ok: true, fields: { poll: poll.id, scale: v } };
    }
    case 'words': {
      const out: string[] = [];
      for (const raw of input.words) {
        const w = raw.replace(/\s+/g, ' ').trim();
        if (!w) continue;
        if ([...w].length > MAX_WORD_LENGTH) return { ok: false, problem: 'wordTooLong' };
        if (!out.some((o) => o.toLocaleLowerCase() === w.toLocaleLowerCase())) out.push(w);
      }
      if (out.length === 0) return { ok: false, problem: 'words' };
      if (out.length > MAX_WORDS) return { ok: false, problem: 'tooMany' };
      return { ok: true, fields: { poll: poll.id, words: out } };
    }
  }
  return { ok: false, problem: 'choose' };
}

/** moveItem moves the entry at `from` one place up (−1) or down (+1) in a ranking. */
export function moveItem(ranking: readonly number[], from: number, delta: -1 | 1): number[] {
  const to = from + delta;
  if (from < 0 || from >= ranking.length || to < 0 || to >= ranking.length) return [...ranking];
  const out = [...ranking];
  [out[from], out[to]] = [out[to], out[from]];
  return out;
}

/** ballotOf reads one's ballot for a poll from `me.ballots` (a map, or a list with `poll`). */
export function ballotOf(me: Me | null | undefined, pollId: string): Ballot | null {
  const b = me?.ballots;
  if (!b) return null;
  if (Array.isArray(b)) return b.find((x) => x.poll === pollId) ?? null;
  return b[pollId] ?? null;
}

// --- tallies -----------------------------------------------------------------------------------

export interface Bar {
  /** the option's index, or the scale's value */
  key: number;
  label: string;
  lang: string;
  value: number;
  /** 0–1: the share of voters (choices, scale) or of the highest score (ranking) */
  share: number;
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

/**
 * pollBars turns results into bars in the options' order (a ranking: best first). Shares are
 * of the voters for choices and the scale (several choices may add to more than 100 %), of the
 * best score for a ranking.
 */
export function pollBars(poll: Poll, results: PollResults | null | undefined, reader: string): Bar[] {
  if (!results || poll.kind === 'words') return [];
  if (poll.kind === 'scale') {
    const dist = results.distribution ?? results.counts;
    const counts = [1, 2, 3, 4, 5].map((_, i) => num(dist?.[i]));
    const total = num(results.voters) || counts.reduce((a, b) => a + b, 0);
    return counts.map((v, i) => ({ key: i + 1, label: String(i + 1), lang: '', value: v, share: total ? v / total : 0 }));
  }
  const values = poll.kind === 'ranking' ? results.points : results.counts;
  const bars = poll.options.map((o, i) => {
    const t = textOf(o, reader);
    return { key: i, label: t.text, lang: t.lang, value: num(values?.[i]), share: 0 };
  });
  if (poll.kind === 'ranking') {
    const best = Math.max(0, ...bars.map((b) => b.value));
    for (const b of bars) b.share = best ? b.value / best : 0;
    return bars.sort((a, b) => b.value - a.value || a.key - b.key);
  }
  const total =
    num(results.voters) || (poll.kind === 'single' ? bars.reduce((a, b) => a + b.value, 0) : Math.max(0, ...bars.map((b) => b.value)));
  for (const b of bars) b.share = total ? Math.min(1, b.value / total) : 0;
  return bars;
}

/** scaleMean: the mean of a 1–5 scale (the server's, else computed from the counts), or null. */
export function scaleMean(results: PollResults | null | undefined): number | null {
  if (!results) return null;
  for (const m of [results.average, results.mean]) if (typeof m === 'number' && Number.isFinite(m)) return m;
  let n = 0;
  let sum = 0;
  (results.distribution ?? results.counts ?? []).slice(0, 5).forEach((c, i) => {
    n += num(c);
    sum += num(c) * (i + 1);
  });
  return n ? sum / n : null;
}

export interface CloudWord {
  word: string;
  count: number;
  /** 1 (rarest) to 5 (most frequent): the font size step */
  weight: number;
}

/**
 * wordCloud keeps the most frequent words (equal counts: alphabetical, so the cloud does not
 * jump about) and gives each a size step on a logarithmic scale.
 */
export function wordCloud(words: PollResults['words'], limit = 40): CloudWord[] {
  const list = (words ?? []).filter((w) => w && typeof w.word === 'string' && num(w.count) > 0);
  list.sort((a, b) => b.count - a.count || a.word.localeCompare(b.word));
  const top = list.slice(0, limit);
  const max = top.length ? top[0].count : 0;
  return top.map((w) => ({
    word: w.word,
    count: w.count,
    weight: max <= 1 ? 3 : 1 + Math.round((4 * Math.log(w.count)) / Math.log(max)),
  }));
}

/** resultsVisible: whether a poll's results may be shown now to participants. */
export function resultsVisible(poll: Poll): boolean {
  if (poll.status === 'draft') return false;
  return poll.status === 'closed' || poll.showResults === 'live';
}

// --- questions ---------------------------------------------------------------------------------

export type QuestionSort = 'votes' | 'time';

export function sortQuestions(list: readonly Question[], by: QuestionSort): Question[] {
  const time = (q: Question) => Date.parse(q.createdAt) || 0;
  return [...list].sort((a, b) =>
    by === 'votes' ? b.votes - a.votes || time(a) - time(b) || a.id.localeCompare(b.id) : time(b) - time(a) || a.id.localeCompare(b.id),
  );
}

/** topQuestions: the approved, not yet answered, questions with the most votes (the projector). */
export function topQuestions(list: readonly Question[], n = 5): Question[] {
  return sortQuestions(
    list.filter((q) => q.status === 'approved'),
    'votes',
  ).slice(0, n);
}

// --- the room state ----------------------------------------------------------------------------

export interface RoomState {
  session: LiveSession | null;
  polls: Poll[];
  /** approved, answered and dismissed questions (and one's own pending ones, with status pending) */
  questions: Question[];
  queue: Hand[];
  presence: Presence;
  me: Me | null;
  /** ids of one's own questions */
  mine: string[];
  upvoted: string[];
  ballots: Record<string, Ballot>;
}

export function emptyRoom(): RoomState {
  return {
    session: null,
    polls: [],
    questions: [],
    queue: [],
    presence: { guests: 0, accounts: 0 },
    me: null,
    mine: [],
    upvoted: [],
    ballots: {},
  };
}

function arr<T>(x: unknown): T[] {
  return Array.isArray(x) ? (x as T[]) : [];
}

function upsert<T extends { id: string }>(list: readonly T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i < 0) return [...list, item];
  const out = [...list];
  out[i] = item;
  return out;
}

/**
 * adoptSession keeps the newer of two views of a session (by version) and, when the incoming one
 * is the public view that the room's events carry, what only hosts see (the code, co-hosts).
 */
export function adoptSession(prev: LiveSession | null, next: LiveSession | null | undefined): LiveSession | null {
  if (!next || typeof next !== 'object' || !next.id) return prev;
  if (prev && prev.id === next.id && typeof prev.version === 'number' && typeof next.version === 'number' && next.version < prev.version) {
    return prev;
  }
  if (prev && prev.id === next.id && prev.host && !next.host) {
    return {
      ...next,
      host: true,
      code: next.status === 'ended' ? '' : next.code || prev.code,
      coHosts: next.coHosts ?? prev.coHosts,
    };
  }
  return next;
}

/** normPoll: a poll as the pages read it (the server leaves out empty options, e.g. of a scale). */
export function normPoll(p: Poll): Poll {
  return Array.isArray(p.options) ? p : { ...p, options: [] };
}

function ballotsFrom(me: Me | null): Record<string, Ballot> {
  const out: Record<string, Ballot> = {};
  const b = me?.ballots;
  if (Array.isArray(b)) {
    for (const x of b) if (x && x.poll) out[x.poll] = x;
  } else if (b && typeof b === 'object') {
    Object.assign(out, b);
  }
  return out;
}

/** applySnapshot replaces the state with the room's snapshot (keeping host-only session fields). */
export function applySnapshot(prev: RoomState, data: unknown): RoomState {
  const d = (data ?? {}) as Record<string, unknown>;
  const me = (d.me && typeof d.me === 'object' ? d.me : null) as Me | null;
  const pending = arr<Question>(me?.pending).map((q) => ({ ...q, status: q.status ?? 'pending', mine: true }));
  let questions = arr<Question>(d.questions);
  for (const q of pending) if (!questions.some((x) => x.id === q.id)) questions = [...questions, q];
  const presence = (d.presence ?? {}) as Partial<Presence>;
  const polls = arr<Poll>(d.polls)
    .filter((p) => p && p.id)
    .map(normPoll);
  const ballots = ballotsFrom(me);
  for (const p of polls) if (p && p.mine) ballots[p.id] = p.mine;
  return {
    session: adoptSession(prev.session, d.session as LiveSession),
    polls,
    questions,
    queue: arr<Hand>(d.queue),
    presence: { guests: num(presence.guests), accounts: num(presence.accounts) },
    me,
    mine: [...new Set([...questions.filter((q) => q.mine).map((q) => q.id), ...pending.map((q) => q.id)])],
    upvoted: [...new Set([...arr<string>(me?.upvotes), ...questions.filter((q) => q.upvoted).map((q) => q.id)])],
    ballots,
  };
}

/** applyEvent applies one event of `session:<id>` (or an ack's value), idempotently. */
export function applyEvent(s: RoomState, data: unknown): RoomState {
  const ev = (data ?? {}) as Record<string, any>;
  switch (ev.type) {
    case 'session.state': {
      const session = adoptSession(s.session, ev.session);
      return session === s.session ? s : { ...s, session };
    }
    case 'session.ended': {
      if (!s.session || s.session.id !== ev.id || s.session.status === 'ended') return s;
      return { ...s, session: { ...s.session, status: 'ended', code: '', floor: null, current: '' } };
    }
    case 'poll.state': {
      const p = ev.poll as Poll;
      if (!p || !p.id) return s;
      const old = s.polls.find((x) => x.id === p.id);
      // A poll.state without results keeps the results a poll.results event already brought,
      // unless the poll went back to hiding them.
      const results = p.results ?? (old && resultsVisible(p) ? old.results : undefined);
      return { ...s, polls: upsert(s.polls, normPoll({ ...p, results })) };
    }
    case 'poll.deleted': {
      const id = typeof ev.poll === 'string' ? ev.poll : ev.id;
      return { ...s, polls: s.polls.filter((x) => x.id !== id) };
    }
    case 'poll.results': {
      const id = typeof ev.poll === 'string' ? ev.poll : ev.poll?.id;
      const old = s.polls.find((x) => x.id === id);
      if (!old) return s;
      return { ...s, polls: upsert(s.polls, { ...old, results: ev.results ?? null }) };
    }
    case 'question.state': {
      const q = ev.question as Question;
      if (!q || !q.id) return s;
      const old = s.questions.find((x) => x.id === q.id);
      // The public view has no `mine` and, once dismissed, no text: keep what one knew.
      const text = q.text || old?.text || '';
      return { ...s, questions: upsert(s.questions, { ...q, text, mine: q.mine ?? old?.mine, upvoted: q.upvoted ?? old?.upvoted }) };
    }
    case 'question.removed': {
      const id = typeof ev.question === 'string' ? ev.question : ev.question?.id;
      if (!s.questions.some((x) => x.id === id)) return s;
      return { ...s, questions: s.questions.filter((x) => x.id !== id) };
    }
    case 'question.votes': {
      const id = typeof ev.question === 'string' ? ev.question : ev.question?.id;
      const old = s.questions.find((x) => x.id === id);
      if (!old || old.votes === ev.votes) return s;
      return { ...s, questions: upsert(s.questions, { ...old, votes: num(ev.votes) }) };
    }
    case 'queue.state':
      return { ...s, queue: arr<Hand>(ev.queue) };
    case 'presence':
      return { ...s, presence: { guests: num(ev.guests), accounts: num(ev.accounts) } };
  }
  return s;
}

/** A vote was stored: remember it as one's ballot (the ack carries its version). */
export function withBallot(s: RoomState, pollId: string, fields: Record<string, unknown>, ack: unknown): RoomState {
  const version = (ack as { version?: number } | null)?.version;
  const b: Ballot = {};
  if (Array.isArray(fields.choices)) b.choices = fields.choices as number[];
  if (Array.isArray(fields.ranking)) b.ranking = fields.ranking as number[];
  if (typeof fields.scale === 'number') b.scale = fields.scale;
  if (Array.isArray(fields.words)) b.words = fields.words as string[];
  if (typeof version === 'number') b.version = version;
  const old = s.ballots[pollId];
  if (old?.version !== undefined && b.version !== undefined && old.version > b.version) return s;
  return { ...s, ballots: { ...s.ballots, [pollId]: b } };
}

/** One's question was stored (pending, or approved at once without pre-moderation). */
export function withAsked(s: RoomState, q: Question | null | undefined): RoomState {
  if (!q || !q.id) return s;
  const old = s.questions.find((x) => x.id === q.id);
  // An event may already have moved it on (approved): keep the later state.
  const next = old && old.status !== 'pending' ? { ...old, mine: true } : { ...q, status: q.status ?? 'pending', mine: true };
  return { ...s, questions: upsert(s.questions, next), mine: s.mine.includes(q.id) ? s.mine : [...s.mine, q.id] };
}

/** One's upvote was stored; the ack carries the question's votes. */
export function withUpvote(s: RoomState, id: string, ack: unknown): RoomState {
  const votes = (ack as { votes?: number } | null)?.votes;
  const old = s.questions.find((x) => x.id === id);
  const questions = old && typeof votes === 'number' ? upsert(s.questions, { ...old, votes }) : s.questions;
  return { ...s, questions, upvoted: s.upvoted.includes(id) ? s.upvoted : [...s.upvoted, id] };
}

/** queuePlace: one's place in the queue (1 = next), or 0 when one's hand is down. */
export function queuePlace(queue: readonly Hand[], me: string | null | undefined): number {
  if (!me) return 0;
  return queue.findIndex((h) => h.participantId === me) + 1;
}

/** openPolls: polls open now, the most recently opened first. */
export function openPolls(polls: readonly Poll[]): Poll[] {
  return polls.filter((p) => p.status === 'open').sort((a, b) => (Date.parse(b.openedAt ?? '') || 0) - (Date.parse(a.openedAt ?? '') || 0));
}

/** shownPoll: what the projector shows: the open poll, else the last closed one. */
export function shownPoll(polls: readonly Poll[]): Poll | null {
  const open = openPolls(polls);
  if (open.length) return open[0];
  const closed = polls
    .filter((p) => p.status === 'closed')
    .sort((a, b) => (Date.parse(b.closedAt ?? '') || 0) - (Date.parse(a.closedAt ?? '') || 0));
  return closed[0] ?? null;
}

// --- the hosts' room ---------------------------------------------------------------------------

export interface HostState {
  pending: Question[];
  /** the people connected now, sorted by name (the first 500: then truncated) */
  participants: Participant[];
  truncated: boolean;
}

export function emptyHost(): HostState {
  return { pending: [], participants: [], truncated: false };
}

export function applyHostSnapshot(data: unknown): HostState {
  const d = (data ?? {}) as Record<string, unknown>;
  return { pending: arr<Question>(d.pending), participants: arr<Participant>(d.participants), truncated: d.participantsTruncated === true };
}

/** applyHostEvent applies one event of `session-host:<id>` (or of `session:<id>` that settles a pending question). */
export function applyHostEvent(h: HostState, data: unknown): HostState {
  const ev = (data ?? {}) as Record<string, any>;
  switch (ev.type) {
    case 'question.pending': {
      const q = ev.question as Question;
      if (!q || !q.id) return h;
      return { ...h, pending: upsert(h.pending, { ...q, status: 'pending' }) };
    }
    case 'question.state': {
      const q = ev.question as Question;
      if (!q || !q.id || q.status === 'pending') return h;
      if (!h.pending.some((x) => x.id === q.id)) return h;
      return { ...h, pending: h.pending.filter((x) => x.id !== q.id) };
    }
    case 'question.removed': {
      const id = typeof ev.question === 'string' ? ev.question : ev.question?.id;
      if (!h.pending.some((x) => x.id === id)) return h;
      return { ...h, pending: h.pending.filter((x) => x.id !== id) };
    }
    case 'presence.list':
      return { ...h, participants: arr<Participant>(ev.participants), truncated: ev.truncated === true };
  }
  return h;
}

// --- the poll form -----------------------------------------------------------------------------

/** One language of the poll form: a title and the options, one per line. */
export interface PollTextRow {
  lang: string;
  title: string;
  options: string;
}

export type PollFormProblem = 'title' | 'options' | 'optionsMismatch' | 'maxChoices';

export function optionLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * buildPollDraft turns the poll form into poll.create's `poll`: the title per language, and each
 * option in every language (the n-th line of each language's list is the n-th option).
 */
export function buildPollDraft(
  kind: PollKind,
  rows: readonly PollTextRow[],
  settings: { maxChoices: number; guestsMayVote: boolean; showResults: 'live' | 'closed' },
): { ok: true; poll: PollDraft } | { ok: false; problem: PollFormProblem } {
  const title: Texts = {};
  for (const r of rows) if (r.title.trim()) title[r.lang] = r.title.trim();
  if (Object.keys(title).length === 0) return { ok: false, problem: 'title' };
  const options: Texts[] = [];
  if (kind === 'single' || kind === 'multiple' || kind === 'ranking') {
    const lists = rows.map((r) => ({ lang: r.lang, lines: optionLines(r.options) })).filter((l) => l.lines.length > 0);
    if (lists.length === 0 || lists[0].lines.length < 2 || lists[0].lines.length > MAX_OPTIONS) return { ok: false, problem: 'options' };
    const n = lists[0].lines.length;
    if (lists.some((l) => l.lines.length !== n)) return { ok: false, problem: 'optionsMismatch' };
    for (let i = 0; i < n; i++) {
      const o: Texts = {};
      for (const l of lists) o[l.lang] = l.lines[i];
      options.push(o);
    }
  }
  let maxChoices = 0;
  if (kind === 'multiple') {
    maxChoices = settings.maxChoices;
    if (!Number.isInteger(maxChoices) || maxChoices < 1 || maxChoices > options.length) return { ok: false, problem: 'maxChoices' };
  }
  return {
    ok: true,
    poll: { kind, title, options, maxChoices, guestsMayVote: settings.guestsMayVote, showResults: settings.showResults },
  };
}

// --- the session form --------------------------------------------------------------------------

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** localDateTime: an API time as the value of an <input type="datetime-local">. */
export function localDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalDateTime: the value of a datetime-local input as an API time (null: empty or invalid). */
export function fromLocalDateTime(v: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/.exec(v.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}



/** isTyping: whether a key event comes from a place where letters are text, not shortcuts. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return false;
  if (el.isContentEditable) return true;
  return !!el.closest('input, textarea, select, [contenteditable="true"], dialog');
}
