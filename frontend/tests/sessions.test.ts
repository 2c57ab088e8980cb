// Live sessions, the pure parts: join codes, the clock and countdowns, ballots, tallies, the
// poll form, question order and the room state built idempotently from snapshots and events.
import { describe, expect, it } from 'vitest';
import {
  adoptSession,
  applyEvent,
  applyHostEvent,
  applyHostSnapshot,
  applySnapshot,
  buildBallot,
  buildPollDraft,
  clockSample,
  codeProblem,
  currentItem,
  elapsedMs,
  emptyBallot,
  emptyRoom,
  formatClock,
  formatCode,
  fromLocalDateTime,
  groupSessions,
  isTyping,
  joinLink,
  localDateTime,
  moveItem,
  nextOffset,
  normaliseCode,
  pollBars,
  queuePlace,
  remainingMs,
  scaleMean,
  shownPoll,
  sortQuestions,
  topQuestions,
  withAsked,
  withBallot,
  withUpvote,
  wordCloud,
  type BallotInput,
  type LiveSession,
  type Poll,
  type Question,
} from '../src/lib/sessions';

function session(over: Partial<LiveSession> = {}): LiveSession {
  return {
    id: 's1',
    forumId: 'f1',
    title: { it: 'Forum di San Severo', fr: 'Forum de San Severo' },
    scheduledAt: '2026-03-01T17:00:00Z',
    mode: 'in_person',
    status: 'live',
    agenda: [
      { id: 'a', title: { it: 'Apertura' }, minutes: 10 },
      { id: 'b', title: { it: 'Casa' }, minutes: 0 },
    ],
    current: 'a',
    currentSince: '2026-03-01T17:05:00Z',
    guestsMayAsk: true,
    preModerate: true,
    host: false,
    version: 3,
    serverTime: '2026-03-01T17:06:00Z',
    ...over,
  };
}

function poll(over: Partial<Poll> = {}): Poll {
  return {
    id: 'p1',
    kind: 'single',
    title: { it: 'Quale tema?' },
    options: [{ it: 'Casa', fr: 'Logement' }, { it: 'Lavoro' }, { it: 'Scuola' }],
    guestsMayVote: true,
    showResults: 'live',
    status: 'open',
    ...over,
  };
}

const input = (over: Partial<BallotInput> = {}): BallotInput => ({ choices: [], ranking: [], scale: null, words: [], ...over });

function question(id: string, votes: number, createdAt: string, status: Question['status'] = 'approved'): Question {
  return { id, text: `q ${id}`, status, votes, createdAt };
}

describe('join codes', () => {
  it('reads typed codes as the server does', () => {
    expect(normaliseCode('abc-def ghjk')).toBe('ABCDEFGHJK');
    expect(normaliseCode(' 7kx4\u00a0pq2–mza ')).toBe('7KX4PQ2MZA');
    expect(normaliseCode('ab_cd.ef')).toBe('ABCDEF');
  });

  it('says what is wrong before asking the server', () => {
    expect(codeProblem('')).toBe('required');
    expect(codeProblem('ABCDE')).toBe('length');
    expect(codeProblem('ABCDEFGHJ0')).toBe('letters'); // 0 is never used
    expect(codeProblem('7KX4PQ2MZA')).toBe('');
  });

  it('groups a code for reading and links to the join page with it', () => {
    expect(formatCode('7kx4pq2mza')).toBe('7KX-4PQ-2MZA');
    expect(formatCode('7KX4PQ2MZA', ' ')).toBe('7KX 4PQ 2MZA');
    expect(joinLink('https://insieme.example', '7kx-4pq-2mza')).toBe('https://insieme.example/join?code=7KX4PQ2MZA');
  });
});

describe('the clock', () => {
  const at = Date.parse('2026-03-01T17:06:00Z');

  it('estimates the server clock from the least delayed message', () => {
    expect(clockSample('2026-03-01T17:06:00Z', at - 2000)).toBe(2000); // our clock is 2 s behind
    expect(clockSample(undefined, at)).toBeNull();
    expect(clockSample('not a time', at)).toBeNull();
    let off = nextOffset(null, 1500, true);
    off = nextOffset(off, 1900); // a message that travelled faster
    off = nextOffset(off, -60_000); // a replayed old event
    expect(off).toBe(1900);
    expect(nextOffset(off, 200, true)).toBe(200); // a new snapshot starts afresh
    expect(nextOffset(off, null)).toBe(1900);
  });

  it('counts an agenda item down on the server clock, and over time', () => {
    const since = '2026-03-01T17:05:00Z'; // 10 minutes planned
    // Our clock says 17:05:30 but is 30 s behind the server: 9 minutes left.
    expect(remainingMs(since, 10, Date.parse('2026-03-01T17:05:30Z'), 30_000)).toBe(9 * 60_000);
    expect(remainingMs(since, 10, Date.parse('2026-03-01T17:16:00Z'), 0)).toBe(-60_000);
    expect(remainingMs(since, 0, at, 0)).toBeNull();
    expect(remainingMs(undefined, 10, at, 0)).toBeNull();
    expect(elapsedMs(since, at, 0)).toBe(60_000);
    expect(elapsedMs(since, Date.parse('2026-03-01T17:00:00Z'), 0)).toBe(0);
  });

  it('writes durations as m:ss and h:mm:ss, a countdown rounding up', () => {
    expect(formatClock(9 * 60_000)).toBe('9:00');
    expect(formatClock(61_500)).toBe('1:01');
    expect(formatClock(61_500, true)).toBe('1:02');
    expect(formatClock(500, true)).toBe('0:01');
    expect(formatClock(-65_000)).toBe('1:05');
    expect(formatClock(3_723_000)).toBe('1:02:03');
  });

  it('finds the current agenda item', () => {
    expect(currentItem(session()).index).toBe(0);
    expect(currentItem(session({ current: '' })).item).toBeNull();
    expect(currentItem(session({ current: 'gone' })).index).toBe(-1);
  });
});

describe('ballots', () => {
  it('single: exactly one option of the poll', () => {
    const p = poll();
    expect(buildBallot(p, input({ choices: [1] }))).toEqual({ ok: true, fields: { poll: 'p1', choices: [1] } });
    expect(buildBallot(p, input())).toEqual({ ok: false, problem: 'choose' });
    expect(buildBallot(p, input({ choices: [7] }))).toEqual({ ok: false, problem: 'choose' });
  });

  it('multiple: up to maxChoices, sorted, once each', () => {
    const p = poll({ kind: 'multiple', maxChoices: 2 });
    expect(buildBallot(p, input({ choices: [2, 0, 2] }))).toEqual({ ok: true, fields: { poll: 'p1', choices: [0, 2] } });
    expect(buildBallot(p, input({ choices: [0, 1, 2] }))).toEqual({ ok: false, problem: 'tooMany' });
    expect(buildBallot(p, input({ choices: [] }))).toEqual({ ok: false, problem: 'choose' });
  });

  it('ranking: every option once, best first; moved with up and down', () => {
    const p = poll({ kind: 'ranking' });
    let r = emptyBallot(p).ranking;
    expect(r).toEqual([0, 1, 2]);
    r = moveItem(r, 2, -1);
    r = moveItem(r, 1, -1);
    expect(r).toEqual([2, 0, 1]);
    expect(moveItem(r, 0, -1)).toEqual([2, 0, 1]); // the first cannot go higher
    expect(buildBallot(p, input({ ranking: r }))).toEqual({ ok: true, fields: { poll: 'p1', ranking: [2, 0, 1] } });
    expect(buildBallot(p, input({ ranking: [0, 0, 1] }))).toEqual({ ok: false, problem: 'rankAll' });
    expect(buildBallot(p, input({ ranking: [0, 1] }))).toEqual({ ok: false, problem: 'rankAll' });
  });

  it('scale: a whole number from 1 to 5', () => {
    const p = poll({ kind: 'scale', options: [] });
    expect(buildBallot(p, input({ scale: 4 }))).toEqual({ ok: true, fields: { poll: 'p1', scale: 4 } });
    expect(buildBallot(p, input({ scale: 6 }))).toEqual({ ok: false, problem: 'scale' });
    expect(buildBallot(p, input())).toEqual({ ok: false, problem: 'scale' });
  });

  it('words: up to three, trimmed, repeated ones once', () => {
    const p = poll({ kind: 'words', options: [] });
    expect(buildBallot(p, input({ words: ['  casa ', 'Casa', 'lavoro  sicuro'] }))).toEqual({
      ok: true,
      fields: { poll: 'p1', words: ['casa', 'lavoro sicuro'] },
    });
    expect(buildBallot(p, input({ words: ['', ' '] }))).toEqual({ ok: false, problem: 'words' });
    expect(buildBallot(p, input({ words: ['x'.repeat(41)] }))).toEqual({ ok: false, problem: 'wordTooLong' });
  });

  it('starts the form from one\'s stored ballot', () => {
    const b = emptyBallot(poll({ kind: 'ranking' }), { ranking: [1, 2, 0], version: 2 });
    expect(b.ranking).toEqual([1, 2, 0]);
    expect(emptyBallot(poll({ kind: 'words' }), { words: ['casa'] }).words).toEqual(['casa', '', '']);
  });
});

describe('tallies', () => {
  it('single and multiple: bars in the options\' order, shares of the voters', () => {
    const bars = pollBars(poll(), { voters: 4, counts: [3, 1, 0] }, 'fr');
    expect(bars.map((b) => [b.label, b.lang, b.value, b.share])).toEqual([
      ['Logement', 'fr', 3, 0.75],
      ['Lavoro', 'it', 1, 0.25],
      ['Scuola', 'it', 0, 0],
    ]);
    const multi = pollBars(poll({ kind: 'multiple' }), { voters: 4, counts: [4, 3, 1] }, 'it');
    expect(multi.map((b) => b.share)).toEqual([1, 0.75, 0.25]);
    expect(pollBars(poll(), null, 'it')).toEqual([]);
  });

  it('ranking: best first, shares of the best score', () => {
    const bars = pollBars(poll({ kind: 'ranking' }), { voters: 3, points: [2, 6, 1] }, 'it');
    expect(bars.map((b) => [b.key, b.value, b.share])).toEqual([
      [1, 6, 1],
      [0, 2, 2 / 6],
      [2, 1, 1 / 6],
    ]);
  });

  it('scale: five bars and the mean', () => {
    const r = { voters: 4, counts: [0, 1, 0, 2, 1] };
    expect(pollBars(poll({ kind: 'scale', options: [] }), r, 'it').map((b) => [b.label, b.value])).toEqual([
      ['1', 0],
      ['2', 1],
      ['3', 0],
      ['4', 2],
      ['5', 1],
    ]);
    expect(scaleMean(r)).toBe(3.75);
    expect(scaleMean({ mean: 2.5 })).toBe(2.5);
    expect(scaleMean({ counts: [] })).toBeNull();
  });

  it('words: the most frequent first, alphabetical among equals, sized on a log scale', () => {
    const cloud = wordCloud([
      { word: 'lavoro', count: 1 },
      { word: 'casa', count: 8 },
      { word: 'scuola', count: 1 },
      { word: 'bus', count: 0 },
    ]);
    expect(cloud.map((w) => [w.word, w.weight])).toEqual([
      ['casa', 5],
      ['lavoro', 1],
      ['scuola', 1],
    ]);
    expect(wordCloud([{ word: 'sole', count: 1 }])[0].weight).toBe(3);
    expect(wordCloud(undefined)).toEqual([]);
  });
});

describe('the poll form', () => {
  const settings = { maxChoices: 2, guestsMayVote: false, showResults: 'closed' as const };
  it('pairs the options of every language line by line', () => {
    const out = buildPollDraft(
      'multiple',
      [
        { lang: 'it', title: 'Quale tema?', options: 'Casa\nLavoro\n\nScuola' },
        { lang: 'fr', title: 'Quel thème ?', options: 'Logement\nTravail\nÉcole\n' },
      ],
      settings,
    );
    expect(out).toEqual({
      ok: true,
      poll: {
        kind: 'multiple',
        title: { it: 'Quale tema?', fr: 'Quel thème ?' },
        options: [
          { it: 'Casa', fr: 'Logement' },
          { it: 'Lavoro', fr: 'Travail' },
          { it: 'Scuola', fr: 'École' },
        ],
        maxChoices: 2,
        guestsMayVote: false,
        showResults: 'closed',
      },
    });
  });

  it('names what is missing', () => {
    expect(buildPollDraft('single', [{ lang: 'it', title: '', options: 'a\nb' }], settings)).toEqual({ ok: false, problem: 'title' });
    expect(buildPollDraft('single', [{ lang: 'it', title: 'T', options: 'a' }], settings)).toEqual({ ok: false, problem: 'options' });
    expect(
      buildPollDraft(
        'single',
        [
          { lang: 'it', title: 'T', options: 'a\nb' },
          { lang: 'fr', title: '', options: 'a' },
        ],
        settings,
      ),
    ).toEqual({ ok: false, problem: 'optionsMismatch' });
    expect(buildPollDraft('multiple', [{ lang: 'it', title: 'T', options: 'a\nb' }], { ...settings, maxChoices: 3 })).toEqual({
      ok: false,
      problem: 'maxChoices',
    });
    const words = buildPollDraft('words', [{ lang: 'it', title: 'Una parola', options: 'ignored' }], settings);
    expect(words.ok && words.poll.options).toEqual([]);
  });
});

describe('questions', () => {
  const qs = [question('a', 2, '2026-03-01T17:01:00Z'), question('b', 5, '2026-03-01T17:02:00Z'), question('c', 2, '2026-03-01T17:03:00Z')];
  it('sorts by votes (then the oldest first) or by time (newest first)', () => {
    expect(sortQuestions(qs, 'votes').map((q) => q.id)).toEqual(['b', 'a', 'c']);
    expect(sortQuestions(qs, 'time').map((q) => q.id)).toEqual(['c', 'b', 'a']);
  });
  it('puts the approved, unanswered ones with most votes on the projector', () => {
    const more = [...qs, question('d', 9, '2026-03-01T17:04:00Z', 'answered'), question('e', 9, '2026-03-01T17:04:00Z', 'pending')];
    expect(topQuestions(more, 2).map((q) => q.id)).toEqual(['b', 'a']);
  });
});

describe('the room state', () => {
  const snapshot = {
    session: session(),
    polls: [poll()],
    questions: [question('q1', 1, '2026-03-01T17:01:00Z')],
    queue: [{ participantId: 'g2', name: 'Amina', since: '2026-03-01T17:04:00Z' }],
    presence: { guests: 30, accounts: 12 },
    me: {
      id: 'g1',
      name: 'Ion',
      guest: true,
      ballots: { p1: { choices: [1], version: 1 } },
      upvotes: ['q1'],
      pending: [{ id: 'q9', text: 'mine', votes: 0, createdAt: '2026-03-01T17:03:00Z' }],
    },
  };

  it('takes a snapshot whole, with one\'s ballots, upvotes and pending questions', () => {
    const s = applySnapshot(emptyRoom(), snapshot);
    expect(s.session?.version).toBe(3);
    expect(s.presence).toEqual({ guests: 30, accounts: 12 });
    expect(s.ballots.p1.choices).toEqual([1]);
    expect(s.upvoted).toEqual(['q1']);
    expect(s.mine).toEqual(['q9']);
    expect(s.questions.find((q) => q.id === 'q9')?.status).toBe('pending');
    expect(queuePlace(s.queue, 'g2')).toBe(1);
    expect(queuePlace(s.queue, 'g1')).toBe(0);
    // ballots as a list are read too
    const listed = applySnapshot(emptyRoom(), { ...snapshot, me: { ...snapshot.me, ballots: [{ poll: 'p1', scale: 3 }] } });
    expect(listed.ballots.p1.scale).toBe(3);
  });

  it('applies events idempotently: twice is once, and an older session never wins', () => {
    const s0 = applySnapshot(emptyRoom(), snapshot);
    const events = [
      { type: 'session.state', session: session({ version: 4, current: 'b', currentSince: '2026-03-01T17:15:00Z' }) },
      { type: 'poll.results', poll: 'p1', results: { voters: 2, counts: [1, 1, 0] } },
      { type: 'question.state', question: question('q2', 0, '2026-03-01T17:05:00Z') },
      { type: 'question.votes', question: 'q2', votes: 3 },
      { type: 'queue.state', queue: [] },
      { type: 'presence', guests: 31, accounts: 12 },
      { type: 'question.state', question: { ...snapshot.me.pending[0], status: 'approved', votes: 0 } },
    ];
    const once = events.reduce(applyEvent, s0);
    const twice = events.reduce(applyEvent, once);
    expect(twice).toEqual(once);
    expect(once.session?.current).toBe('b');
    expect(once.polls[0].results?.voters).toBe(2);
    expect(once.questions.find((q) => q.id === 'q2')?.votes).toBe(3);
    expect(once.questions.find((q) => q.id === 'q9')).toMatchObject({ status: 'approved', mine: true });
    expect(once.queue).toEqual([]);
    expect(once.presence.guests).toBe(31);
    // a late, older session.state (the snapshot already had newer) changes nothing
    expect(applyEvent(once, { type: 'session.state', session: session({ version: 3 }) })).toBe(once);
    // unknown events are ignored
    expect(applyEvent(once, { type: 'something.new' })).toBe(once);
  });

  it('keeps a poll\'s results when its state comes without them, and ends the session', () => {
    let s = applySnapshot(emptyRoom(), snapshot);
    s = applyEvent(s, { type: 'poll.results', poll: 'p1', results: { voters: 5, counts: [5, 0, 0] } });
    s = applyEvent(s, { type: 'poll.state', poll: poll({ status: 'closed' }) });
    expect(s.polls[0]).toMatchObject({ status: 'closed', results: { voters: 5 } });
    s = applyEvent(s, { type: 'session.ended', id: 's1' });
    expect(s.session).toMatchObject({ status: 'ended', code: '', current: '' });
    expect(shownPoll(s.polls)?.id).toBe('p1');
  });

  it('keeps what only hosts see when the room sends the public view', () => {
    const hostView = session({ host: true, code: '7KX4PQ2MZA', coHosts: [{ id: 'u2', displayName: 'Rita' }] });
    const pub = session({ version: 4 });
    expect(adoptSession(hostView, pub)).toMatchObject({ host: true, code: '7KX4PQ2MZA', version: 4, coHosts: [{ id: 'u2' }] });
    expect(adoptSession(hostView, session({ version: 5, status: 'ended' }))?.code).toBe('');
  });

  it('records acks as absolute values', () => {
    let s = applySnapshot(emptyRoom(), snapshot);
    s = withBallot(s, 'p1', { poll: 'p1', choices: [2] }, { version: 3 });
    expect(s.ballots.p1).toEqual({ choices: [2], version: 3 });
    expect(withBallot(s, 'p1', { choices: [0] }, { version: 2 })).toBe(s); // an older ack
    s = withAsked(s, { id: 'q10', text: 'new', status: 'pending', votes: 0, createdAt: '2026-03-01T17:07:00Z' });
    expect(s.mine).toContain('q10');
    s = applyEvent(s, { type: 'question.state', question: question('q2', 1, '2026-03-01T17:05:00Z') });
    s = withUpvote(s, 'q2', { votes: 2 });
    s = withUpvote(s, 'q2', { votes: 2 });
    expect(s.upvoted.filter((x) => x === 'q2')).toHaveLength(1);
    expect(s.questions.find((q) => q.id === 'q2')?.votes).toBe(2);
  });

  it('reads one\'s ballots and upvotes where the server puts them (poll.mine, question.upvoted)', () => {
    const s = applySnapshot(emptyRoom(), {
      session: session(),
      polls: [{ ...poll(), mine: { version: 4, choices: [2] } }],
      questions: [{ ...question('q1', 3, '2026-03-01T17:01:00Z'), upvoted: true }, { ...question('q2', 0, '2026-03-01T17:02:00Z', 'pending'), mine: true }],
      queue: [],
      presence: { guests: 1, accounts: 0 },
      me: { id: 'g1', name: 'Ion', guest: true },
    });
    expect(s.ballots.p1).toEqual({ version: 4, choices: [2] });
    expect(s.upvoted).toEqual(['q1']);
    expect(s.mine).toEqual(['q2']);
    // the public view of a dismissed question has no text: one's own keeps it
    const d = applyEvent(s, { type: 'question.state', question: { ...question('q2', 0, '2026-03-01T17:02:00Z', 'dismissed'), text: '' } });
    expect(d.questions.find((q) => q.id === 'q2')).toMatchObject({ status: 'dismissed', text: 'q q2', mine: true });
    const r = applyEvent(d, { type: 'question.removed', question: 'q1' });
    expect(r.questions.map((q) => q.id)).toEqual(['q2']);
    expect(applyEvent(r, { type: 'question.removed', question: 'q1' })).toBe(r);
  });

  it('reads a poll without options (a scale, words) as one with none', () => {
    const raw = { ...poll({ kind: 'scale' }), options: undefined } as unknown as Poll;
    const s = applyEvent(emptyRoom(), { type: 'poll.state', poll: raw });
    expect(s.polls[0].options).toEqual([]);
    expect(applySnapshot(emptyRoom(), { polls: [raw] }).polls[0].options).toEqual([]);
  });

  it('shows a scale\'s distribution and average', () => {
    const p = poll({ kind: 'scale', options: [] });
    const r = { voters: 3, distribution: [0, 0, 1, 1, 1], average: 4 };
    expect(pollBars(p, r, 'it').map((b) => b.value)).toEqual([0, 0, 1, 1, 1]);
    expect(scaleMean(r)).toBe(4);
    expect(scaleMean({ distribution: [1, 0, 0, 0, 1] })).toBe(3);
  });

  it('keeps the hosts\' pending questions and participants', () => {
    let h = applyHostSnapshot({ pending: [question('p1', 0, '2026-03-01T17:01:00Z', 'pending')], participants: [{ id: 'g1', name: 'Ion', guest: true }] });
    h = applyHostEvent(h, { type: 'question.pending', question: question('p2', 0, '2026-03-01T17:02:00Z', 'pending') });
    h = applyHostEvent(h, { type: 'question.pending', question: question('p2', 0, '2026-03-01T17:02:00Z', 'pending') });
    expect(h.pending.map((q) => q.id)).toEqual(['p1', 'p2']);
    h = applyHostEvent(h, { type: 'question.state', question: question('p1', 0, '2026-03-01T17:01:00Z', 'approved') });
    expect(h.pending.map((q) => q.id)).toEqual(['p2']);
    h = applyHostEvent(h, { type: 'question.removed', question: 'p2' });
    expect(h.pending).toEqual([]);
    h = applyHostEvent(h, { type: 'presence.list', participants: [], truncated: true, guests: 600, accounts: 2 });
    expect(h.participants).toEqual([]);
    expect(h.truncated).toBe(true);
    expect(applyHostSnapshot({ pending: [], participants: [], participantsTruncated: true }).truncated).toBe(true);
  });
});

describe('the session form and list', () => {
  it('turns datetime-local values into API times and back', () => {
    const iso = fromLocalDateTime('2026-03-01T18:30')!;
    expect(localDateTime(iso)).toBe('2026-03-01T18:30');
    expect(fromLocalDateTime('01/03/2026')).toBeNull();
    expect(localDateTime(null)).toBe('');
  });

  it('groups sessions: live, upcoming soonest first, ended latest first', () => {
    const g = groupSessions([
      session({ id: 'e1', status: 'ended', endedAt: '2026-01-01T10:00:00Z' }),
      session({ id: 'u2', status: 'scheduled', scheduledAt: '2026-05-01T10:00:00Z' }),
      session({ id: 'l', status: 'live' }),
      session({ id: 'u1', status: 'scheduled', scheduledAt: '2026-04-01T10:00:00Z' }),
      session({ id: 'e2', status: 'ended', endedAt: '2026-02-01T10:00:00Z' }),
    ]);
    expect(g.live.map((s) => s.id)).toEqual(['l']);
    expect(g.upcoming.map((s) => s.id)).toEqual(['u1', 'u2']);
    expect(g.ended.map((s) => s.id)).toEqual(['e2', 'e1']);
  });

  it('does not take keys typed in fields for shortcuts', () => {
    const input = document.createElement('input');
    const button = document.createElement('button');
    document.body.append(input, button);
    expect(isTyping(input)).toBe(true);
    expect(isTyping(button)).toBe(false);
    expect(isTyping(null)).toBe(false);
    input.remove();
    button.remove();
  });
});
