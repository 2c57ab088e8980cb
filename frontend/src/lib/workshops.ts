// Co-design workshops (docs/WORKSHOPS.md): every type the workshop pages use, and the pure parts
// of those pages: the phases and what each allows, the board state built from the snapshot and
// the events of `workshop:<id>` and `participant:<id>`, the `versions` rule (a field shows the
// edit with the greatest id), the dot budget, the list view's grouping by cluster, the canvas
// positions, the ranked results and the export links.
//
// The Go side is being written against the same document; where a shape is not final the
// reading here is tolerant and the assumed shape is written next to it.
import type { Texts } from './types';

// --- phases ------------------------------------------------------------------------------------

export const PHASES = ['lobby', 'brainstorm', 'reveal', 'cluster', 'vote', 'plan', 'closed'] as const;
export type Phase = (typeof PHASES)[number];

/** phaseIndex: a phase's place in the order, −1 for an unknown phase. */
export function phaseIndex(p: string | null | undefined): number {
  return PHASES.indexOf(p as Phase);
}

/** laterPhases: the phases a facilitator may move to from `p` (forward only; skipping allowed). */
export function laterPhases(p: string): Phase[] {
  const i = phaseIndex(p);
  return i < 0 ? [] : PHASES.slice(i + 1);
}

/** nextPhase: the phase after `p`, or null at the end. */
export function nextPhase(p: string): Phase | null {
  return laterPhases(p)[0] ?? null;
}

export type StepState = 'done' | 'current' | 'todo';

/** stepper: every phase with its state for the phase stepper. */
export function stepper(p: string): Array<{ phase: Phase; state: StepState; n: number }> {
  const cur = phaseIndex(p);
  return PHASES.map((phase, i) => ({ phase, n: i + 1, state: i < cur ? 'done' : i === cur ? 'current' : 'todo' }));
}

/** The live messages of a workshop (docs/WORKSHOPS.md, "What each phase allows"). */
export type WorkshopAct =
  | 'card.create'
  | 'card.edit'
  | 'card.move'
  | 'card.hide'
  | 'cluster.create'
  | 'cluster.edit'
  | 'dot.add'
  | 'dot.remove'
  | 'action.create'
  | 'action.edit'
  | 'action.status'
  | 'workshop.proposal';

const allowed: Record<WorkshopAct, readonly Phase[]> = {
  'card.create': ['brainstorm'],
  'card.edit': ['brainstorm', 'reveal'],
  'card.move': ['reveal', 'cluster'],
  'card.hide': ['reveal', 'cluster', 'vote', 'plan'],
  'cluster.create': ['cluster'],
  'cluster.edit': ['cluster'],
  'dot.add': ['vote'],
  'dot.remove': ['vote'],
  'action.create': ['plan'],
  'action.edit': ['plan'],
  'action.status': ['plan', 'closed'],
  'workshop.proposal': ['plan', 'closed'],
};

/** phaseAllows: whether the phase allows the action at all (who may is mayMove and the rest). */
export function phaseAllows(act: WorkshopAct, phase: string): boolean {
  return (allowed[act] as readonly string[]).includes(phase);
}

/**
 * mayMove: whether this viewer may move cards and make or rename clusters now: facilitators in
 * reveal and cluster (clusters: cluster only), participants in cluster unless the facilitator
 * keeps moves to themselves, and nobody but facilitators while the board is locked.
 */
export function mayMove(w: Workshop | null, facilitator: boolean, act: 'card.move' | 'cluster.create' | 'cluster.edit' = 'card.move'): boolean {
  if (!w || !phaseAllows(act, w.phase)) return false;
  if (facilitator) return true;
  if (w.locked) return false;
  return w.phase === 'cluster' && !w.settings.facilitatorMoves;
}

/** mayWrite: a participant may write cards now (the brainstorm, board not locked). */
export function mayWrite(w: Workshop | null, facilitator: boolean): boolean {
  return !!w && w.phase === 'brainstorm' && (facilitator || !w.locked);
}

// --- documents ---------------------------------------------------------------------------------

export interface WorkshopSettings {
  anonymous: boolean;
  /** dots per participant, 1–20 */
  dots: number;
  /** 1..dots */
  maxDotsPerCard: number;
  /** true: only facilitators move cards in the cluster phase */
  facilitatorMoves: boolean;
}

export interface WorkshopGroup {
  id: string;
  name: string;
}

export interface DotResult {
  /** a card or cluster id */
  target: string;
  dots: number;
}

/** A workshop as GET /api/v1/workshops/{id} and `workshop.state` show it. */
export interface Workshop {
  id: string;
  forumId: string;
  title: string;
  brief: Texts;
  scheduledAt: string;
  settings: WorkshopSettings;
  groups: WorkshopGroup[];
  phase: Phase | string;
  phaseStartedAt?: string;
  timerEndsAt?: string | null;
  locked: boolean;
  /** "" or a card or cluster id */
  spotlight: string;
  /** facilitators only */
  joinCode?: string;
  /** facilitators only */
  facilitator?: boolean;
  results?: DotResult[];
  createdBy?: string;
  createdAt?: string;
  version: number;
  /** the server's clock when the view was made (if the server sends it: countdowns use it) */
  serverTime?: string;
}

/** A forum's workshop in GET /api/v1/forums/{id}/workshops. */
export interface WorkshopSummary {
  id: string;
  title: string;
  brief: Texts;
  scheduledAt: string;
  phase: Phase | string;
  participants?: number;
}

/** The new-workshop form (POST /api/v1/forums/{id}/workshops). */
export interface WorkshopBody {
  title: string;
  brief: Texts;
  scheduledAt: string;
  settings: WorkshopSettings;
  groups: Array<{ id?: string; name: string }>;
}

export const COLOURS = ['yellow', 'pink', 'blue', 'green', 'orange', 'purple'] as const;
export type Colour = (typeof COLOURS)[number];

export const MAX_CARD_TEXT = 280;
export const MAX_CLUSTER_NAME = 80;
export const MAX_TITLE = 200;
export const MAX_BRIEF = 2000;
export const MAX_GROUPS = 20;
export const MAX_GROUP_NAME = 60;
export const MAX_ACTION_TITLE = 200;
export const MAX_RESOURCES = 1000;
export const MAX_DOTS = 20;
export const MAX_TIMER = 180;
export const CANVAS = 10_000;

export interface Pos {
  x: number;
  y: number;
}

/** versions: each field's latest edit id ("<item>|<field>|<version>"). */
export type Versions = Record<string, string>;

export interface CardAuthor {
  id?: string;
  name: string;
  guest?: boolean;
  former?: boolean;
}

/** A card (`card.state`, snapshots, acks). */
export interface Card {
  id: string;
  text: string;
  colour: Colour | string;
  pos?: Pos | null;
  cluster?: string;
  hidden?: boolean;
  group?: string;
  /** absent in anonymous workshops; read as a name string too */
  author?: CardAuthor | string | null;
  createdAt?: string;
  /** the viewer wrote it */
  mine?: boolean;
  versions?: Versions;
}

export interface Cluster {
  id: string;
  name: string;
  pos?: Pos | null;
  /** the proposal made from it (the `proposal` field of the store; read as proposalId too) */
  proposalId?: string;
  proposal?: string;
  versions?: Versions;
}

export const ACTION_STATUSES = ['open', 'in_progress', 'done'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export interface ActionOwner {
  kind: 'person' | 'organisation' | '';
  /** an account id (person) or an organisation id */
  id?: string;
  name: string;
}

/** A line of the action plan (`action.state`). */
export interface PlanAction {
  id: string;
  workshopId?: string;
  title: string;
  /** source cluster id or "" */
  cluster: string;
  owner: ActionOwner | null;
  /** a date (YYYY-MM-DD or a time) */
  due?: string | null;
  resources: string;
  status: ActionStatus | string;
  proposalId?: string;
  /** the viewer may set its status (its owner, or a member of the owning organisation) */
  mayUpdate?: boolean;
  version: number;
}

/** One of the viewer's dots (`dots.dots` of the snapshot, `dots.mine`, the ack of dot.add). */
export interface Dot {
  target: string;
  slot?: number;
  k?: number;
}

export interface CardCounts {
  total: number;
  /** per table id ("" for no table) */
  byGroup: Record<string, number>;
  /** the viewer's own cards, when the server says so */
  mine?: number;
}

export interface Progress {
  voters: number;
  spent: number;
}

export interface WorkshopMe {
  id: string;
  name: string;
  guest: boolean;
  /** the table the viewer sits at ("" none): the snapshot's `group` */
  group?: string;
}

/** The room's state as the page shows it. */
export interface WorkshopState {
  workshop: Workshop | null;
  cards: Card[];
  clusters: Cluster[];
  counts: CardCounts;
  dots: Dot[];
  /** dots left as the server last said (null: count from the budget) */
  left: number | null;
  progress: Progress;
  results: DotResult[];
  actions: PlanAction[];
  me: WorkshopMe | null;
  facilitator: boolean;
  presence: { guests: number; accounts: number };
}

export function emptyWorkshop(): WorkshopState {
  return {
    workshop: null,
    cards: [],
    clusters: [],
    counts: { total: 0, byGroup: {} },
    dots: [],
    left: null,
    progress: { voters: 0, spent: 0 },
    results: [],
    actions: [],
    me: null,
    facilitator: false,
    presence: { guests: 0, accounts: 0 },
  };
}

// --- reading -----------------------------------------------------------------------------------

function arr<T>(x: unknown): T[] {
  return Array.isArray(x) ? (x as T[]) : [];
}

function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

function obj(x: unknown): Record<string, any> | null {
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, any>) : null;
}

const defaultSettings: WorkshopSettings = { anonymous: false, dots: 5, maxDotsPerCard: 3, facilitatorMoves: false };

/** normWorkshop fills what a partial view leaves out, so the page reads every field. */
export function normWorkshop(w: Workshop): Workshop {
  return {
    ...w,
    brief: obj(w.brief) ?? (typeof w.brief === 'string' ? { it: w.brief } : {}),
    settings: { ...defaultSettings, ...(obj(w.settings) ?? {}) },
    groups: arr<WorkshopGroup>(w.groups),
    locked: !!w.locked,
    spotlight: typeof w.spotlight === 'string' ? w.spotlight : '',
    version: num(w.version),
  };
}

/**
 * adoptWorkshop keeps the newer of two views of the workshop (by version) and, when the newer one
 * is the participants' view the room's events carry, what only facilitators see (the join code).
 */
export function adoptWorkshop(prev: Workshop | null, next: unknown): Workshop | null {
  const n = obj(next) as Workshop | null;
  if (!n || !n.id) return prev;
  const w = normWorkshop(n);
  if (prev && prev.id === w.id) {
    if (w.version < prev.version) return prev;
    if (prev.joinCode && !w.joinCode) return { ...w, joinCode: prev.joinCode, facilitator: w.facilitator ?? prev.facilitator };
  }
  return w;
}

/** isNewer: whether edit id `a` is newer than `b` (greater as a string; none is oldest). */
export function isNewer(a: string | undefined, b: string | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  return a > b;
}

/**
 * mergeVersioned applies an incoming view of a card or cluster to the one shown: each versioned
 * field takes the incoming value only when its edit id is at least the shown one's (the same
 * edit again changes nothing), so edits arriving in any order converge on the greatest. Fields
 * without versions (group, author, createdAt) take the incoming value when it has one.
 */
export function mergeVersioned<T extends { id: string; versions?: Versions }>(prev: T | undefined, next: T, fields: readonly string[]): T {
  if (!prev) return { ...next, versions: { ...(next.versions ?? {}) } };
  const out: Record<string, any> = { ...prev };
  const versions: Versions = { ...(prev.versions ?? {}) };
  const nv = next.versions ?? {};
  const n = next as Record<string, any>;
  for (const [k, v] of Object.entries(n)) {
    if (k === 'versions' || fields.includes(k) || v === undefined) continue;
    out[k] = v;
  }
  for (const f of fields) {
    const a = nv[f];
    const b = versions[f];
    if (a === undefined) {
      // An unversioned value (an old server, or a field never edited) fills a gap only.
      if (b === undefined && f in n && n[f] !== undefined) out[f] = n[f];
      continue;
    }
    if (b === undefined || a >= b) {
      if (f in n) out[f] = n[f];
      versions[f] = a;
    }
  }
  out.versions = versions;
  return out as T;
}

export const CARD_FIELDS = ['text', 'colour', 'pos', 'cluster', 'hidden'] as const;
export const CLUSTER_FIELDS = ['name', 'pos', 'proposal', 'proposalId'] as const;

function normCard(c: Card): Card {
  return { ...c, text: typeof c.text === 'string' ? c.text : '', cluster: typeof c.cluster === 'string' ? c.cluster : c.cluster ?? undefined };
}

function mergeCard(list: readonly Card[], c: Card, facilitator = false): Card[] {
  if (!c || typeof c.id !== 'string' || !c.id) return list as Card[];
  const i = list.findIndex((x) => x.id === c.id);
  const merged = normCard(mergeVersioned(i < 0 ? undefined : list[i], c, CARD_FIELDS));
  // A card's author never changes: the room's view says nothing of `mine`, one's own did.
  if (i >= 0 && list[i].mine) merged.mine = true;
  // The room's view of a hidden card has its text blanked under the same version: those who
  // still may read it (its author, facilitators) keep it.
  const mayRead = facilitator || merged.mine;
  if (i >= 0 && mayRead && merged.hidden && c.text === '' && list[i].text && c.versions?.text === list[i].versions?.text) {
    merged.text = list[i].text;
  }
  if (i < 0) return [...list, merged];
  const out = [...list];
  out[i] = merged;
  return out;
}

function mergeCluster(list: readonly Cluster[], c: Cluster): Cluster[] {
  if (!c || typeof c.id !== 'string' || !c.id) return list as Cluster[];
  const i = list.findIndex((x) => x.id === c.id);
  const merged = mergeVersioned(i < 0 ? undefined : list[i], c, CLUSTER_FIELDS);
  if (i < 0) return [...list, merged];
  const out = [...list];
  out[i] = merged;
  return out;
}

function upsertAction(list: readonly PlanAction[], a: PlanAction): PlanAction[] {
  if (!a || !a.id) return list as PlanAction[];
  const i = list.findIndex((x) => x.id === a.id);
  if (i < 0) return [...list, a];
  const old = list[i];
  if (typeof old.version === 'number' && typeof a.version === 'number' && a.version < old.version) return list as PlanAction[];
  const out = [...list];
  // The room's view has no `mayUpdate` (it is the viewer's own): keep what one knew.
  out[i] = { ...a, mayUpdate: a.mayUpdate ?? old.mayUpdate };
  return out;
}

function readCounts(x: unknown, prev?: CardCounts): CardCounts {
  const c = obj(x);
  if (!c) return prev ?? { total: 0, byGroup: {} };
  const byGroup: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(c.byGroup) ?? {})) byGroup[k] = num(v);
  const out: CardCounts = { total: num(c.total), byGroup };
  if (typeof c.mine === 'number') out.mine = c.mine;
  else if (prev?.mine !== undefined) out.mine = prev.mine;
  return out;
}

/** readDots reads the viewer's dots: objects with a target, or bare target ids. */
export function readDots(x: unknown): Dot[] {
  return arr<unknown>(x)
    .map((d) => (typeof d === 'string' ? { target: d } : (obj(d) as Dot | null)))
    .filter((d): d is Dot => !!d && typeof d.target === 'string' && d.target !== '');
}

function readResults(x: unknown): DotResult[] {
  return arr<DotResult>(x).filter((r) => r && typeof r.target === 'string');
}

/** mergeBoard: a whole board (board.state, a snapshot) over what is shown, by the versions rule. */
function mergeBoard(s: WorkshopState, cardsIn: unknown, clustersIn: unknown): Pick<WorkshopState, 'cards' | 'clusters'> {
  // The board is the whole board: what it lacks is gone (or no longer visible), what both have
  // keeps the newer value of each field.
  let cards: Card[] = [];
  for (const c of arr<Card>(cardsIn)) {
    const old = s.cards.find((x) => x.id === c?.id);
    cards = mergeCard(old ? [...cards, old] : cards, c);
  }
  let clusters: Cluster[] = [];
  for (const c of arr<Cluster>(clustersIn)) {
    const old = s.clusters.find((x) => x.id === c?.id);
    clusters = mergeCluster(old ? [...clusters, old] : clusters, c);
  }
  return { cards, clusters };
}

/**
 * applySnapshot replaces the state with the room's snapshot `{workshop, cards, clusters, counts,
 * dots, progress, results, actions, me, facilitator}` (also GET /api/v1/workshops/{id}, which
 * answers the same), keeping the newer value of each field it already had.
 */
export function applySnapshot(prev: WorkshopState, data: unknown): WorkshopState {
  const d = obj(data);
  if (!d) return prev;
  // GET may answer the workshop document itself with the board beside it.
  const wIn = d.workshop ?? (d.id && d.phase ? d : null);
  const workshop = adoptWorkshop(prev.workshop && prev.workshop.id === wIn?.id ? prev.workshop : null, wIn);
  const board = mergeBoard(prev, d.cards, d.clusters);
  const facilitator = typeof d.facilitator === 'boolean' ? d.facilitator : !!(workshop?.facilitator ?? (wIn as Workshop | null)?.facilitator);
  const presence = obj(d.presence);
  // `dots` is the viewer's `{dots, left}` (a bare list is read too).
  const myDots = obj(d.dots);
  const dots = myDots ? readDots(myDots.dots) : 'dots' in d ? readDots(d.dots) : prev.dots;
  const left = typeof myDots?.left === 'number' ? myDots.left : typeof d.left === 'number' ? d.left : null;
  let me = (obj(d.me) as WorkshopMe | null) ?? prev.me;
  if (me && typeof d.group === 'string') me = { ...me, group: d.group };
  return {
    workshop,
    ...board,
    counts: readCounts(d.counts),
    dots,
    left,
    progress: { voters: num(obj(d.progress)?.voters), spent: num(obj(d.progress)?.spent) },
    results: readResults(d.results ?? workshop?.results),
    actions: arr<PlanAction>(d.actions).reduce(upsertAction, [] as PlanAction[]),
    me,
    facilitator,
    presence: presence ? { guests: num(presence.guests), accounts: num(presence.accounts) } : prev.presence,
  };
}

/** applyEvent applies one event of `workshop:<id>` or `participant:<id>` (or an ack), idempotently. */
export function applyEvent(s: WorkshopState, data: unknown): WorkshopState {
  const ev = obj(data);
  if (!ev) return s;
  switch (ev.type) {
    case 'workshop.state': {
      const workshop = adoptWorkshop(s.workshop, ev.workshop);
      if (workshop === s.workshop) return s;
      const results = readResults(workshop?.results);
      return { ...s, workshop, results: results.length ? results : s.results };
    }
    case 'cards.count':
      return { ...s, counts: readCounts(ev, s.counts) };
    case 'board.state':
      return { ...s, ...mergeBoard(s, ev.cards, ev.clusters) };
    case 'card.state': {
      const cards = mergeCard(s.cards, ev.card, s.facilitator);
      return cards === s.cards ? s : { ...s, cards };
    }
    case 'cluster.state': {
      const clusters = mergeCluster(s.clusters, ev.cluster);
      return clusters === s.clusters ? s : { ...s, clusters };
    }
    case 'board.changes': {
      // A node's batch of changed cards and clusters, each as it was when sent.
      let cards = s.cards;
      for (const c of arr<Card>(ev.cards)) cards = mergeCard(cards, c, s.facilitator);
      let clusters = s.clusters;
      for (const k of arr<Cluster>(ev.clusters)) clusters = mergeCluster(clusters, k);
      return cards === s.cards && clusters === s.clusters ? s : { ...s, cards, clusters };
    }
    case 'dots.progress':
      return { ...s, progress: { voters: num(ev.voters), spent: num(ev.spent) } };
    case 'dots.results':
      return { ...s, results: readResults(ev.results) };
    case 'dots.mine': {
      // `{dots, left}` beside the type, or nested as `dots: {dots, left}`.
      const m = obj(ev.dots) ?? ev;
      return { ...s, dots: readDots(m.dots), left: typeof m.left === 'number' ? m.left : null };
    }
    case 'action.state': {
      const actions = upsertAction(s.actions, ev.action);
      return actions === s.actions ? s : { ...s, actions };
    }
    case 'presence':
      return { ...s, presence: { guests: num(ev.guests), accounts: num(ev.accounts) } };
  }
  return s;
}

// --- dots --------------------------------------------------------------------------------------

export interface Budget {
  total: number;
  spent: number;
  left: number;
  maxPerTarget: number;
  /** the viewer's dots per target */
  on: Record<string, number>;
}

/** budget: the viewer's dots against the workshop's settings (the server's `left` wins when given). */
export function budget(s: Pick<WorkshopState, 'dots' | 'left' | 'workshop'>): Budget {
  const total = s.workshop?.settings.dots ?? 0;
  const on: Record<string, number> = {};
  for (const d of s.dots) on[d.target] = (on[d.target] ?? 0) + 1;
  const spent = s.dots.length;
  const left = Math.max(0, s.left ?? total - spent);
  return { total, spent, left, maxPerTarget: s.workshop?.settings.maxDotsPerCard ?? 0, on };
}

/** canAddDot: whether the budget and the per-card maximum allow one more dot on a target. */
export function canAddDot(b: Budget, target: string): boolean {
  return b.left > 0 && (b.on[target] ?? 0) < b.maxPerTarget;
}

/** withDotsAck: the ack of dot.add / dot.remove `{dots, left}` is the viewer's dots now. */
export function withDotsAck(s: WorkshopState, ack: unknown): WorkshopState {
  const a = obj(ack);
  if (!a || !Array.isArray(a.dots)) return s;
  return { ...s, dots: readDots(a.dots), left: typeof a.left === 'number' ? a.left : null };
}

/** The dot error worth its own sentence: over the budget or over the per-card maximum. */
export function dotRefusal(e: { code?: string; limits?: Record<string, number> } | null | undefined): 'budget' | 'perCard' | '' {
  if (!e || e.code !== 'conflict' || !e.limits) return '';
  if (typeof e.limits.maxDotsPerCard === 'number') return 'perCard';
  if (typeof e.limits.dots === 'number') return 'budget';
  return '';
}

// --- the board ---------------------------------------------------------------------------------

/** authorName: a card's author as shown (null when anonymous). */
export function authorName(c: Card): string | null {
  if (!c.author) return null;
  if (typeof c.author === 'string') return c.author || null;
  return c.author.name || null;
}

function byCreation(a: Card, b: Card): number {
  const ta = a.createdAt ?? '';
  const tb = b.createdAt ?? '';
  return ta < tb ? -1 : ta > tb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** visibleCards: hidden cards are left out except for facilitators (who see them marked). */
export function visibleCards(cards: readonly Card[], facilitator: boolean): Card[] {
  return cards.filter((c) => facilitator || !c.hidden);
}

export interface BoardGroup {
  /** null: the cards in no cluster */
  cluster: Cluster | null;
  cards: Card[];
}

/**
 * groupBoard: the list view's board: the cards in no cluster first (when there are any, or when
 * there is no cluster at all), then every cluster in the order it appeared, each with its cards
 * in the order they were written. A card whose cluster is unknown counts as in none.
 */
export function groupBoard(cards: readonly Card[], clusters: readonly Cluster[]): BoardGroup[] {
  const known = new Set(clusters.map((k) => k.id));
  const sorted = [...cards].sort(byCreation);
  const loose = sorted.filter((c) => !c.cluster || !known.has(c.cluster));
  const out: BoardGroup[] = [];
  if (loose.length > 0 || clusters.length === 0) out.push({ cluster: null, cards: loose });
  for (const k of clusters) out.push({ cluster: k, cards: sorted.filter((c) => c.cluster === k.id) });
  return out;
}

/** clusterOf: the cluster a card is in (null: none or unknown). */
export function clusterOf(card: Card, clusters: readonly Cluster[]): Cluster | null {
  return (card.cluster && clusters.find((k) => k.id === card.cluster)) || null;
}

/** The size of a card and a cluster's area on the canvas, in canvas units. */
export const CARD_W = 900;
export const CARD_H = 600;
export const CLUSTER_W = 2000;
export const CLUSTER_H = 1500;

/** clampPos keeps a position on the canvas (0–10,000, whole units). */
export function clampPos(p: Pos, w = CARD_W, h = CARD_H): Pos {
  const c = (v: number, size: number) => Math.round(Math.min(Math.max(0, Number.isFinite(v) ? v : 0), CANVAS - size));
  return { x: c(p.x, w), y: c(p.y, h) };
}

/** hasPos: whether an item was placed (a pos edit exists, or a position other than the origin). */
export function hasPos(x: { pos?: Pos | null; versions?: Versions }): boolean {
  return !!x.pos && (!!x.versions?.pos || x.pos.x !== 0 || x.pos.y !== 0);
}

/**
 * layout: where each card and cluster stands on the canvas. Placed ones stand where they were
 * put; unplaced clusters line up along the top, unplaced cards fill a grid below them (in the
 * order they were written), so a fresh reveal is readable before anyone moves anything.
 */
export function layout(cards: readonly Card[], clusters: readonly Cluster[]): { cards: Record<string, Pos>; clusters: Record<string, Pos> } {
  const out = { cards: {} as Record<string, Pos>, clusters: {} as Record<string, Pos> };
  let k = 0;
  const perRow = Math.floor(CANVAS / (CLUSTER_W + 200));
  for (const c of clusters) {
    if (hasPos(c)) out.clusters[c.id] = clampPos(c.pos!, CLUSTER_W, CLUSTER_H);
    else {
      out.clusters[c.id] = { x: 100 + (k % perRow) * (CLUSTER_W + 200), y: 100 + Math.floor(k / perRow) * (CLUSTER_H + 200) };
      k++;
    }
  }
  // Unplaced cards go below every cluster's area.
  let top = 100;
  for (const p of Object.values(out.clusters)) top = Math.max(top, p.y + CLUSTER_H + 200);
  top = Math.min(top, CANVAS - CARD_H);
  const cols = Math.floor(CANVAS / (CARD_W + 100));
  let n = 0;
  for (const c of [...cards].sort(byCreation)) {
    if (hasPos(c)) out.cards[c.id] = clampPos(c.pos!);
    else {
      out.cards[c.id] = clampPos({ x: 100 + (n % cols) * (CARD_W + 100), y: top + Math.floor(n / cols) * (CARD_H + 100) });
      n++;
    }
  }
  return out;
}

/** nextClusterPos: where a new cluster's area goes: the first free place in the grid of areas. */
export function nextClusterPos(taken: readonly Pos[]): Pos {
  const perRow = Math.floor(CANVAS / (CLUSTER_W + 200));
  const rows = Math.floor(CANVAS / (CLUSTER_H + 200));
  const free = (p: Pos) => taken.every((q) => Math.abs(q.x - p.x) >= CLUSTER_W || Math.abs(q.y - p.y) >= CLUSTER_H);
  for (let i = 0; i < perRow * rows; i++) {
    const p = { x: 100 + (i % perRow) * (CLUSTER_W + 200), y: 100 + Math.floor(i / perRow) * (CLUSTER_H + 200) };
    if (free(p)) return p;
  }
  return { x: 100, y: 100 };
}

/** clusterAt: the cluster whose area holds a card's centre when the card stands at `p`. */
export function clusterAt(p: Pos, clusterPos: Record<string, Pos>): string {
  const cx = p.x + CARD_W / 2;
  const cy = p.y + CARD_H / 2;
  let found = '';
  for (const [id, k] of Object.entries(clusterPos)) {
    if (cx >= k.x && cx <= k.x + CLUSTER_W && cy >= k.y && cy <= k.y + CLUSTER_H) found = id; // the last drawn is on top
  }
  return found;
}

/** arrowMove: a card's position after an arrow key (a larger step with Shift), clamped. */
export function arrowMove(p: Pos, key: string, big = false): Pos | null {
  const step = big ? 500 : 100;
  const d: Record<string, Pos> = { ArrowLeft: { x: -step, y: 0 }, ArrowRight: { x: step, y: 0 }, ArrowUp: { x: 0, y: -step }, ArrowDown: { x: 0, y: step } };
  const m = d[key];
  if (!m) return null;
  return clampPos({ x: p.x + m.x, y: p.y + m.y });
}

// --- results and the plan ----------------------------------------------------------------------

export interface RankedResult {
  target: string;
  dots: number;
  rank: number;
  kind: 'card' | 'cluster' | 'unknown';
  label: string;
}

/** ranked: the results, most dots first, with shared ranks for ties and each target's label. */
export function ranked(results: readonly DotResult[], cards: readonly Card[], clusters: readonly Cluster[]): RankedResult[] {
  const sorted = [...results].sort((a, b) => b.dots - a.dots || (a.target < b.target ? -1 : 1));
  let rank = 0;
  let prev = -1;
  return sorted.map((r, i) => {
    if (r.dots !== prev) {
      rank = i + 1;
      prev = r.dots;
    }
    const k = clusters.find((c) => c.id === r.target);
    const c = k ? undefined : cards.find((x) => x.id === r.target);
    return { target: r.target, dots: r.dots, rank, kind: k ? 'cluster' : c ? 'card' : 'unknown', label: k ? k.name : c ? c.text : '' };
  });
}

/** proposalOf: the proposal a cluster or action became ("" none). */
export function proposalOf(x: Cluster | PlanAction): string {
  const r = x as Cluster & PlanAction;
  return r.proposalId || r.proposal || '';
}

/** Someone who may own an action: an account (not a guest) seen in the workshop. */
export interface OwnerChoice {
  id: string;
  name: string;
}

/**
 * ownerPeople: the accounts an action may be given to: oneself, the named authors of cards
 * (guests cannot own actions) and the people who already own one, each once, by name.
 */
export function ownerPeople(me: { id: string; name: string; guest?: boolean } | null, cards: readonly Card[], actions: readonly PlanAction[]): OwnerChoice[] {
  const out = new Map<string, string>();
  if (me && !me.guest && me.id) out.set(me.id, me.name);
  for (const c of cards) {
    const a = c.author;
    if (a && typeof a === 'object' && a.id && !a.guest && !a.former && !a.id.startsWith('g')) out.set(a.id, a.name);
  }
  for (const x of actions) if (x.owner?.kind === 'person' && x.owner.id) out.set(x.owner.id, x.owner.name);
  return [...out].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}

/** dueDate: an action's due date as the value of an <input type="date"> (YYYY-MM-DD). */
export function dueDate(due: string | null | undefined): string {
  if (!due) return '';
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(due);
  return m ? m[1] : '';
}

/** remainingTimer: ms left of the facilitator's timer on the server's clock (null: none). */
export function remainingTimer(endsAt: string | null | undefined, now: number, offset: number): number | null {
  if (!endsAt) return null;
  const t = Date.parse(endsAt);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - (now + offset));
}

/** timerAnnouncement: the whole minutes left, announced politely only when they change. */
export function timerMinutes(ms: number | null): number | null {
  return ms === null ? null : Math.ceil(ms / 60_000);
}

// --- links (in workshopList.ts: the forum page's small chunk) ---------------------------------

export { exportLink, groupWorkshops, workshopPath, type ExportFormat } from './workshopList';

/** One group (table) row of the new-workshop form. */
export interface GroupRow {
  key: number;
  name: string;
}

export type FormProblem = '' | 'title' | 'brief' | 'when' | 'dots' | 'maxDots' | 'groups';

/**
 * buildWorkshopBody checks the new-workshop form and makes its body: a title, at least one brief,
 * a date, dots 1–20 and at most that many per card, table names not empty and unique.
 */
export function buildWorkshopBody(f: {
  title: string;
  briefs: Record<string, string>;
  when: string | null;
  anonymous: boolean;
  dots: number;
  maxDotsPerCard: number;
  facilitatorMoves: boolean;
  groups: readonly GroupRow[];
}): { body: WorkshopBody | null; problem: FormProblem } {
  const title = f.title.trim();
  if (!title) return { body: null, problem: 'title' };
  const brief: Texts = {};
  for (const [l, v] of Object.entries(f.briefs)) if (v.trim()) brief[l] = v.trim();
  if (Object.keys(brief).length === 0) return { body: null, problem: 'brief' };
  if (!f.when) return { body: null, problem: 'when' };
  if (!Number.isInteger(f.dots) || f.dots < 1 || f.dots > MAX_DOTS) return { body: null, problem: 'dots' };
  if (!Number.isInteger(f.maxDotsPerCard) || f.maxDotsPerCard < 1 || f.maxDotsPerCard > f.dots) return { body: null, problem: 'maxDots' };
  const names = f.groups.map((g) => g.name.trim());
  if (names.some((n) => !n) || new Set(names.map((n) => n.toLowerCase())).size !== names.length || names.length > MAX_GROUPS) {
    return { body: null, problem: 'groups' };
  }
  return {
    body: {
      title,
      brief,
      scheduledAt: f.when,
      settings: { anonymous: f.anonymous, dots: f.dots, maxDotsPerCard: f.maxDotsPerCard, facilitatorMoves: f.facilitatorMoves },
      groups: names.map((name) => ({ name })),
    },
    problem: '',
  };
}
