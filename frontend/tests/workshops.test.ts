// Co-design workshops, the pure parts: phases and the stepper, the versions rule, the room state
// built from snapshots and events, the dot budget, the list view's grouping, the canvas and the
// new-workshop form.
import { describe, expect, it } from 'vitest';
import {
  adoptWorkshop,
  applyEvent,
  applySnapshot,
  arrowMove,
  budget,
  buildWorkshopBody,
  canAddDot,
  clampPos,
  clusterAt,
  dotRefusal,
  emptyWorkshop,
  exportLink,
  groupBoard,
  groupWorkshops,
  isNewer,
  laterPhases,
  layout,
  mayMove,
  mayWrite,
  mergeVersioned,
  nextClusterPos,
  ownerPeople,
  nextPhase,
  phaseAllows,
  ranked,
  remainingTimer,
  stepper,
  visibleCards,
  withDotsAck,
  CARD_W,
  CLUSTER_W,
  type Card,
  type Cluster,
  type Workshop,
  type WorkshopState,
} from '../src/lib/workshops';

function workshop(over: Partial<Workshop> = {}): Workshop {
  return {
    id: 'w1',
    forumId: 'f1',
    title: 'Il parco di via Roma',
    brief: { it: 'Che cosa serve al parco?', fr: 'De quoi le parc a-t-il besoin ?' },
    scheduledAt: '2026-03-01T17:00:00Z',
    settings: { anonymous: false, dots: 5, maxDotsPerCard: 3, facilitatorMoves: false },
    groups: [],
    phase: 'cluster',
    locked: false,
    spotlight: '',
    version: 3,
    ...over,
  };
}

// Edit ids as the server makes them: "<item>|<field>|<20-digit version>.<writer>".
function v(item: string, field: string, n: number, writer = 'n1.1'): string {
  return `${item}|${field}|${String(n).padStart(20, '0')}.${writer}`;
}

function card(id: string, over: Partial<Card> = {}): Card {
  return { id, text: `text ${id}`, colour: 'yellow', createdAt: `2026-03-01T17:0${id.slice(-1)}:00Z`, ...over };
}

function state(over: Partial<WorkshopState> = {}): WorkshopState {
  return { ...emptyWorkshop(), workshop: workshop(), ...over };
}

describe('phases', () => {
  it('move forward only, skipping allowed, closed is final', () => {
    expect(laterPhases('lobby')).toEqual(['brainstorm', 'reveal', 'cluster', 'vote', 'plan', 'closed']);
    expect(laterPhases('vote')).toEqual(['plan', 'closed']);
    expect(laterPhases('closed')).toEqual([]);
    expect(laterPhases('nonsense')).toEqual([]);
    expect(nextPhase('reveal')).toBe('cluster');
    expect(nextPhase('closed')).toBeNull();
  });

  it('make a stepper with the done, current and coming phases', () => {
    const s = stepper('reveal');
    expect(s.map((x) => x.state)).toEqual(['done', 'done', 'current', 'todo', 'todo', 'todo', 'todo']);
    expect(s[2]).toEqual({ phase: 'reveal', n: 3, state: 'current' });
    expect(stepper('closed').filter((x) => x.state === 'done')).toHaveLength(6);
    // An unknown phase marks nothing as done or current.
    expect(stepper('?').every((x) => x.state === 'todo')).toBe(true);
  });

  it('allow each action in the phases of the table', () => {
    expect(phaseAllows('card.create', 'brainstorm')).toBe(true);
    expect(phaseAllows('card.create', 'reveal')).toBe(false);
    expect(phaseAllows('card.edit', 'reveal')).toBe(true);
    expect(phaseAllows('card.move', 'vote')).toBe(false);
    expect(phaseAllows('dot.add', 'vote')).toBe(true);
    expect(phaseAllows('action.status', 'closed')).toBe(true);
    expect(phaseAllows('action.create', 'closed')).toBe(false);
  });

  it('let participants move cards in the cluster phase only, unless locked or kept to facilitators', () => {
    expect(mayMove(workshop({ phase: 'cluster' }), false)).toBe(true);
    expect(mayMove(workshop({ phase: 'reveal' }), false)).toBe(false);
    expect(mayMove(workshop({ phase: 'reveal' }), true)).toBe(true);
    expect(mayMove(workshop({ phase: 'reveal' }), true, 'cluster.create')).toBe(false);
    expect(mayMove(workshop({ locked: true }), false)).toBe(false);
    expect(mayMove(workshop({ locked: true }), true)).toBe(true);
    expect(mayMove(workshop({ settings: { anonymous: false, dots: 5, maxDotsPerCard: 3, facilitatorMoves: true } }), false)).toBe(false);
    expect(mayMove(null, true)).toBe(false);
    expect(mayWrite(workshop({ phase: 'brainstorm' }), false)).toBe(true);
    expect(mayWrite(workshop({ phase: 'brainstorm', locked: true }), false)).toBe(false);
    expect(mayWrite(workshop({ phase: 'brainstorm', locked: true }), true)).toBe(true);
  });
});

describe('the versions rule', () => {
  it('compares edit ids as strings, none being oldest', () => {
    expect(isNewer(v('c', 'pos', 2), v('c', 'pos', 1))).toBe(true);
    expect(isNewer(v('c', 'pos', 1), v('c', 'pos', 2))).toBe(false);
    expect(isNewer(v('c', 'pos', 1), undefined)).toBe(true);
    expect(isNewer(undefined, v('c', 'pos', 1))).toBe(false);
    // Same version from two writers: the writer suffix orders them.
    expect(isNewer(v('c', 'pos', 1, 'n2.1'), v('c', 'pos', 1, 'n1.9'))).toBe(true);
  });

  it('keeps the newest value of each field, whatever order the edits arrive in', () => {
    const base = card('c1', { pos: { x: 0, y: 0 }, versions: { text: v('c1', 'text', 1), pos: v('c1', 'pos', 1) } });
    const move2 = { ...base, pos: { x: 200, y: 200 }, versions: { ...base.versions, pos: v('c1', 'pos', 2) } };
    const move3 = { ...base, pos: { x: 300, y: 300 }, versions: { ...base.versions, pos: v('c1', 'pos', 3) } };
    const edit = { ...base, text: 'edited', versions: { ...base.versions, text: v('c1', 'text', 2) } };
    const fields = ['text', 'colour', 'pos', 'cluster', 'hidden'];
    const orders = [
      [move2, move3, edit],
      [move3, move2, edit],
      [edit, move3, move2],
      [move3, edit, move2],
    ];
    for (const order of orders) {
      let c: Card = base;
      for (const e of order) c = mergeVersioned(c, e, fields);
      expect(c.pos).toEqual({ x: 300, y: 300 });
      expect(c.text).toBe('edited');
      expect(c.versions).toEqual({ text: v('c1', 'text', 2), pos: v('c1', 'pos', 3) });
    }
  });

  it('takes unversioned fields from the newer view and fills unversioned gaps only', () => {
    const a = card('c1', { group: 't1', cluster: 'k1', versions: { cluster: v('c1', 'cluster', 5) } });
    const b = mergeVersioned(a, { ...a, group: 't2', cluster: '', versions: {} }, ['cluster']);
    expect(b.group).toBe('t2');
    expect(b.cluster).toBe('k1'); // the shown value has a version, the incoming one none
  });
});

describe('the room state', () => {
  const snapshot = {
    workshop: { ...workshop({ phase: 'brainstorm', joinCode: 'ABCDEFGHJK', facilitator: true }) },
    cards: [card('c1', { mine: true, versions: { text: v('c1', 'text', 1) } })],
    clusters: [],
    counts: { total: 7, byGroup: { '': 4, t1: 3 } },
    dots: [],
    progress: { voters: 0, spent: 0 },
    results: [],
    actions: [],
    me: { id: 'g1', name: 'Amina', guest: true },
    facilitator: true,
  };

  it('starts from the snapshot', () => {
    const s = applySnapshot(emptyWorkshop(), snapshot);
    expect(s.workshop?.phase).toBe('brainstorm');
    expect(s.workshop?.joinCode).toBe('ABCDEFGHJK');
    expect(s.cards.map((c) => c.id)).toEqual(['c1']);
    expect(s.counts).toEqual({ total: 7, byGroup: { '': 4, t1: 3 } });
    expect(s.me?.name).toBe('Amina');
    expect(s.facilitator).toBe(true);
  });

  it('reads the viewer’s dots as {dots, left} and the viewer’s table', () => {
    const s = applySnapshot(emptyWorkshop(), { ...snapshot, dots: { dots: [{ target: 'c1', slot: 0 }], left: 4 }, group: 't1' });
    expect(s.dots).toEqual([{ target: 'c1', slot: 0 }]);
    expect(s.left).toBe(4);
    expect(s.me?.group).toBe('t1');
  });

  it('reads a GET answer that is the workshop document itself', () => {
    const s = applySnapshot(emptyWorkshop(), { ...workshop({ phase: 'vote' }), facilitator: true });
    expect(s.workshop?.phase).toBe('vote');
    expect(s.facilitator).toBe(true);
  });

  it('keeps the join code when a participants’ view of a newer version arrives, and ignores older versions', () => {
    let s = applySnapshot(emptyWorkshop(), snapshot);
    s = applyEvent(s, { type: 'workshop.state', workshop: workshop({ phase: 'reveal', version: 4 }) });
    expect(s.workshop?.phase).toBe('reveal');
    expect(s.workshop?.joinCode).toBe('ABCDEFGHJK');
    const same = applyEvent(s, { type: 'workshop.state', workshop: workshop({ phase: 'brainstorm', version: 3 }) });
    expect(same).toBe(s);
  });

  it('counts cards in the brainstorm, and keeps one’s own count when an event leaves it out', () => {
    let s = applySnapshot(emptyWorkshop(), { ...snapshot, counts: { total: 7, byGroup: {}, mine: 1 } });
    s = applyEvent(s, { type: 'cards.count', total: 8, byGroup: { '': 5, t1: 3 } });
    expect(s.counts).toEqual({ total: 8, byGroup: { '': 5, t1: 3 }, mine: 1 });
  });

  it('applies card.state by the versions rule, and keeps one’s own cards marked', () => {
    let s = applySnapshot(emptyWorkshop(), snapshot);
    const newer = card('c1', { text: 'new', versions: { text: v('c1', 'text', 3) } });
    const older = card('c1', { text: 'old', versions: { text: v('c1', 'text', 2) } });
    s = applyEvent(s, { type: 'card.state', card: newer });
    s = applyEvent(s, { type: 'card.state', card: older });
    expect(s.cards).toHaveLength(1);
    expect(s.cards[0].text).toBe('new');
    expect(s.cards[0].mine).toBe(true);
    s = applyEvent(s, { type: 'card.state', card: card('c2', { versions: { text: v('c2', 'text', 1) } }) });
    expect(s.cards.map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('applies a batch of board changes by the versions rule, whatever the order batches arrive in', () => {
    let s = state({ cards: [card('c1', { mine: true, pos: { x: 5, y: 5 }, versions: { pos: v('c1', 'pos', 4) } })] });
    // Another node's batch with an older move of c1 and a new card; then a batch with a newer move.
    s = applyEvent(s, {
      type: 'board.changes',
      cards: [card('c1', { pos: { x: 1, y: 1 }, versions: { pos: v('c1', 'pos', 3) } }), card('c2', { versions: { text: v('c2', 'text', 1) } })],
      clusters: [{ id: 'k1', name: 'Verde', versions: { name: v('k1', 'name', 1) } }],
    });
    expect(s.cards.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(s.cards[0].pos).toEqual({ x: 5, y: 5 });
    expect(s.cards[0].mine).toBe(true);
    s = applyEvent(s, { type: 'board.changes', cards: [card('c1', { pos: { x: 9, y: 8 }, versions: { pos: v('c1', 'pos', 7) } })], clusters: [] });
    expect(s.cards[0].pos).toEqual({ x: 9, y: 8 });
    expect(s.clusters.map((k) => k.name)).toEqual(['Verde']);
    // A batch that changes nothing keeps the state as it was.
    expect(applyEvent(s, { type: 'board.changes', cards: [], clusters: [] })).toBe(s);
  });

  it('keeps a hidden card’s text for its author and facilitators when the room’s view blanks it', () => {
    const hiding = { type: 'board.changes', cards: [card('c1', { text: '', hidden: true, versions: { text: v('c1', 'text', 1), hidden: v('c1', 'hidden', 2) } })] };
    const shown = card('c1', { text: 'del ospite', versions: { text: v('c1', 'text', 1) } });
    // Another participant no longer reads it.
    expect(applyEvent(state({ cards: [shown] }), hiding).cards[0].text).toBe('');
    // Its author does.
    expect(applyEvent(state({ cards: [{ ...shown, mine: true }] }), hiding).cards[0].text).toBe('del ospite');
    let s = state({ cards: [shown], facilitator: true });
    s = applyEvent(s, hiding);
    expect(s.cards[0].hidden).toBe(true);
    expect(s.cards[0].text).toBe('del ospite');
    // A newer text (the author's edit) still wins.
    s = applyEvent(s, { type: 'board.changes', cards: [card('c1', { text: '', hidden: true, versions: { text: v('c1', 'text', 3), hidden: v('c1', 'hidden', 2) } })] });
    expect(s.cards[0].text).toBe('');
  });

  it('replaces the board at board.state, keeping newer fields it already had', () => {
    let s = state({ cards: [card('c1', { mine: true, pos: { x: 5, y: 5 }, versions: { pos: v('c1', 'pos', 9) } })] });
    s = applyEvent(s, {
      type: 'board.state',
      cards: [card('c1', { pos: { x: 1, y: 1 }, versions: { pos: v('c1', 'pos', 2) } }), card('c2')],
      clusters: [{ id: 'k1', name: 'Verde', versions: { name: v('k1', 'name', 1) } }],
    });
    expect(s.cards.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(s.cards[0].pos).toEqual({ x: 5, y: 5 });
    expect(s.cards[0].mine).toBe(true);
    expect(s.clusters.map((k) => k.name)).toEqual(['Verde']);
    // A board without a card: the card is gone.
    s = applyEvent(s, { type: 'board.state', cards: [card('c2')], clusters: [] });
    expect(s.cards.map((c) => c.id)).toEqual(['c2']);
  });

  it('applies clusters, dots, results, actions and presence', () => {
    let s = state();
    s = applyEvent(s, { type: 'cluster.state', cluster: { id: 'k1', name: 'A', versions: { name: v('k1', 'name', 2) } } });
    s = applyEvent(s, { type: 'cluster.state', cluster: { id: 'k1', name: 'stale', versions: { name: v('k1', 'name', 1) } } });
    expect(s.clusters[0].name).toBe('A');
    s = applyEvent(s, { type: 'dots.progress', voters: 3, spent: 11 });
    expect(s.progress).toEqual({ voters: 3, spent: 11 });
    s = applyEvent(s, { type: 'dots.mine', dots: [{ target: 'k1', slot: 0, k: 0 }], left: 4 });
    expect(s.dots).toEqual([{ target: 'k1', slot: 0, k: 0 }]);
    expect(s.left).toBe(4);
    s = applyEvent(s, { type: 'dots.mine', dots: { dots: [{ target: 'k1', slot: 0 }, { target: 'c1', slot: 1 }], left: 3 } });
    expect(s.dots.map((d) => d.target)).toEqual(['k1', 'c1']);
    expect(s.left).toBe(3);
    s = applyEvent(s, { type: 'dots.results', results: [{ target: 'k1', dots: 9 }] });
    expect(s.results).toEqual([{ target: 'k1', dots: 9 }]);
    const a = { id: 'a1', title: 'Panchine', cluster: 'k1', owner: { kind: 'organisation', name: 'Comune' }, resources: '', status: 'open', version: 2, mayUpdate: true };
    s = applyEvent(s, { type: 'action.state', action: a });
    s = applyEvent(s, { type: 'action.state', action: { ...a, status: 'done', version: 3, mayUpdate: undefined } });
    expect(s.actions[0].status).toBe('done');
    expect(s.actions[0].mayUpdate).toBe(true);
    s = applyEvent(s, { type: 'action.state', action: { ...a, status: 'open', version: 1 } });
    expect(s.actions[0].status).toBe('done');
    s = applyEvent(s, { type: 'presence', guests: 2, accounts: 5 });
    expect(s.presence).toEqual({ guests: 2, accounts: 5 });
  });

  it('ignores what it does not know', () => {
    const s = state();
    expect(applyEvent(s, { type: 'something.else' })).toBe(s);
    expect(applyEvent(s, null)).toBe(s);
    expect(applyEvent(s, { type: 'card.state', card: { text: 'no id' } })).toBe(s);
  });
});

describe('the dot budget', () => {
  it('counts what is spent and left, per target', () => {
    const s = state({ dots: [{ target: 'k1' }, { target: 'k1' }, { target: 'c2' }] });
    const b = budget(s);
    expect(b).toEqual({ total: 5, spent: 3, left: 2, maxPerTarget: 3, on: { k1: 2, c2: 1 } });
    expect(canAddDot(b, 'k1')).toBe(true);
    expect(canAddDot({ ...b, on: { k1: 3 } }, 'k1')).toBe(false);
    expect(canAddDot({ ...b, left: 0 }, 'c9')).toBe(false);
  });

  it('believes the server’s count of dots left', () => {
    const s = withDotsAck(state(), { dots: ['k1'], left: 0 });
    expect(budget(s).left).toBe(0);
    expect(budget(s).spent).toBe(1);
    expect(withDotsAck(s, null)).toBe(s);
  });

  it('tells a budget refusal from a per-card one', () => {
    expect(dotRefusal({ code: 'conflict', limits: { dots: 0 } })).toBe('budget');
    expect(dotRefusal({ code: 'conflict', limits: { maxDotsPerCard: 3 } })).toBe('perCard');
    expect(dotRefusal({ code: 'conflict', limits: {} })).toBe('');
    expect(dotRefusal({ code: 'forbidden' })).toBe('');
  });
});

describe('the board', () => {
  const clusters: Cluster[] = [
    { id: 'k1', name: 'Verde' },
    { id: 'k2', name: 'Sicurezza' },
  ];

  it('groups the list view by cluster: the loose cards first, then each cluster in order', () => {
    const cards = [card('c3', { cluster: 'k2' }), card('c1'), card('c2', { cluster: 'k1' }), card('c4', { cluster: 'gone' })];
    const g = groupBoard(cards, clusters);
    expect(g.map((x) => [x.cluster?.id ?? null, x.cards.map((c) => c.id)])).toEqual([
      [null, ['c1', 'c4']],
      ['k1', ['c2']],
      ['k2', ['c3']],
    ]);
    // No loose cards: no loose group, but empty clusters stay (to move cards into them).
    expect(groupBoard([card('c2', { cluster: 'k1' })], clusters).map((x) => x.cluster?.id ?? null)).toEqual(['k1', 'k2']);
    // No cluster at all: one group of every card.
    expect(groupBoard([], [])).toEqual([{ cluster: null, cards: [] }]);
  });

  it('hides hidden cards from everyone but facilitators', () => {
    const cards = [card('c1'), card('c2', { hidden: true })];
    expect(visibleCards(cards, false).map((c) => c.id)).toEqual(['c1']);
    expect(visibleCards(cards, true).map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('lays unplaced items out in a grid and keeps placed ones where they are', () => {
    const placed = card('c1', { pos: { x: 4000, y: 4000 }, versions: { pos: v('c1', 'pos', 1) } });
    const l = layout([placed, card('c2'), card('c3')], [{ id: 'k1', name: 'A' }]);
    expect(l.cards.c1).toEqual({ x: 4000, y: 4000 });
    expect(l.clusters.k1).toEqual({ x: 100, y: 100 });
    expect(l.cards.c2.y).toBeGreaterThan(100);
    expect(l.cards.c3.x).toBeGreaterThan(l.cards.c2.x);
    expect(l.cards.c2.y).toBe(l.cards.c3.y);
  });

  it('puts a new cluster in the first free place', () => {
    expect(nextClusterPos([])).toEqual({ x: 100, y: 100 });
    expect(nextClusterPos([{ x: 100, y: 100 }])).toEqual({ x: 100 + CLUSTER_W + 200, y: 100 });
    expect(nextClusterPos([{ x: 2300, y: 100 }])).toEqual({ x: 100, y: 100 });
  });

  it('finds the cluster under a card, and moves and clamps by arrow keys', () => {
    const at = { k1: { x: 100, y: 100 } };
    expect(clusterAt({ x: 150, y: 150 }, at)).toBe('k1');
    expect(clusterAt({ x: 100 + CLUSTER_W, y: 150 }, at)).toBe('');
    expect(arrowMove({ x: 500, y: 500 }, 'ArrowRight')).toEqual({ x: 600, y: 500 });
    expect(arrowMove({ x: 500, y: 500 }, 'ArrowUp', true)).toEqual({ x: 500, y: 0 });
    expect(arrowMove({ x: 0, y: 0 }, 'ArrowLeft')).toEqual({ x: 0, y: 0 });
    expect(arrowMove({ x: 0, y: 0 }, 'Enter')).toBeNull();
    expect(clampPos({ x: 20000, y: -5 })).toEqual({ x: 10000 - CARD_W, y: 0 });
  });
});

describe('results and links', () => {
  it('ranks results with shared ranks and labels', () => {
    const r = ranked(
      [
        { target: 'c1', dots: 3 },
        { target: 'k1', dots: 7 },
        { target: 'c2', dots: 3 },
        { target: 'x', dots: 1 },
      ],
      [card('c1'), card('c2')],
      [{ id: 'k1', name: 'Verde' }],
    );
    expect(r.map((x) => [x.target, x.rank, x.kind, x.label])).toEqual([
      ['k1', 1, 'cluster', 'Verde'],
      ['c1', 2, 'card', 'text c1'],
      ['c2', 2, 'card', 'text c2'],
      ['x', 4, 'unknown', ''],
    ]);
  });

  it('offers as owners oneself, named authors and present owners, never guests', () => {
    const people = ownerPeople(
      { id: 'u1', name: 'Zora', guest: false },
      [
        card('c1', { author: { id: 'u2', name: 'Bilal' } }),
        card('c2', { author: { id: 'g9', name: 'Guest', guest: true } }),
        card('c3', { author: { id: 'u2', name: 'Bilal' } }),
        card('c4'),
      ],
      [{ id: 'a1', title: 'x', cluster: '', owner: { kind: 'person', id: 'u3', name: 'Ada' }, resources: '', status: 'open', version: 1 }],
    );
    expect(people).toEqual([
      { id: 'u3', name: 'Ada' },
      { id: 'u2', name: 'Bilal' },
      { id: 'u1', name: 'Zora' },
    ]);
    expect(ownerPeople({ id: 'g1', name: 'G', guest: true }, [], [])).toEqual([]);
  });

  it('counts the timer down on the server’s clock', () => {
    const now = Date.parse('2026-03-01T17:00:00Z');
    expect(remainingTimer('2026-03-01T17:05:00Z', now, 0)).toBe(300_000);
    expect(remainingTimer('2026-03-01T17:05:00Z', now, 60_000)).toBe(240_000);
    expect(remainingTimer('2026-03-01T16:00:00Z', now, 0)).toBe(0);
    expect(remainingTimer(null, now, 0)).toBeNull();
  });

  it('links the exports and groups a forum’s workshops', () => {
    expect(exportLink('w 1', 'md')).toBe('/api/v1/workshops/w%201/export.md');
    expect(exportLink('w1', 'csv', 'votes')).toBe('/api/v1/workshops/w1/export.csv?part=votes');
    const g = groupWorkshops([
      { id: 'a', title: 'A', brief: {}, scheduledAt: '2026-03-02T10:00:00Z', phase: 'closed' },
      { id: 'b', title: 'B', brief: {}, scheduledAt: '2026-03-05T10:00:00Z', phase: 'lobby' },
      { id: 'c', title: 'C', brief: {}, scheduledAt: '2026-03-01T10:00:00Z', phase: 'vote' },
      { id: 'd', title: 'D', brief: {}, scheduledAt: '2026-03-04T10:00:00Z', phase: 'closed' },
    ]);
    expect(g.open.map((w) => w.id)).toEqual(['c', 'b']);
    expect(g.closed.map((w) => w.id)).toEqual(['d', 'a']);
  });

  it('adopts no view without an id', () => {
    const w = workshop();
    expect(adoptWorkshop(w, { phase: 'vote' })).toBe(w);
    expect(adoptWorkshop(null, { ...w, settings: undefined })?.settings.dots).toBe(5);
  });
});

describe('the new-workshop form', () => {
  const ok = {
    title: ' Parco ',
    briefs: { it: 'Che cosa serve?', fr: ' ' },
    when: '2026-03-01T17:00:00.000Z',
    anonymous: true,
    dots: 5,
    maxDotsPerCard: 2,
    facilitatorMoves: false,
    groups: [
      { key: 0, name: 'Tavolo 1' },
      { key: 1, name: 'Tavolo 2 ' },
    ],
  };

  it('builds the body with trimmed texts and the briefs that are written', () => {
    const { body, problem } = buildWorkshopBody(ok);
    expect(problem).toBe('');
    expect(body).toEqual({
      title: 'Parco',
      brief: { it: 'Che cosa serve?' },
      scheduledAt: '2026-03-01T17:00:00.000Z',
      settings: { anonymous: true, dots: 5, maxDotsPerCard: 2, facilitatorMoves: false },
      groups: [{ name: 'Tavolo 1' }, { name: 'Tavolo 2' }],
    });
  });

  it('says what is wrong', () => {
    expect(buildWorkshopBody({ ...ok, title: ' ' }).problem).toBe('title');
    expect(buildWorkshopBody({ ...ok, briefs: { it: '' } }).problem).toBe('brief');
    expect(buildWorkshopBody({ ...ok, when: null }).problem).toBe('when');
    expect(buildWorkshopBody({ ...ok, dots: 21 }).problem).toBe('dots');
    expect(buildWorkshopBody({ ...ok, maxDotsPerCard: 6 }).problem).toBe('maxDots');
    expect(buildWorkshopBody({ ...ok, groups: [{ key: 0, name: 'A' }, { key: 1, name: 'a' }] }).problem).toBe('groups');
    expect(buildWorkshopBody({ ...ok, groups: [{ key: 0, name: '' }] }).problem).toBe('groups');
  });
});
