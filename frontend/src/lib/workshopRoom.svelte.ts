// The live state of one workshop for its page: the first view from GET /api/v1/workshops/{id},
// then the snapshot and events of the room `workshop:<id>` and of one's private room
// `participant:<id>` (one's own cards in the brainstorm, one's dots), and the live messages of
// docs/WORKSHOPS.md sent over the websocket (or over HTTP while it is down). Acks change the
// state only with what they confirm: the stored card, cluster, action, workshop or dots.
import { ApiError, asGuest } from './api';
import { live } from './connection';
import { activateGuest, forgetGuest, guestPass } from './guest';
import { session as account } from './session.svelte';
import type { RoomProblem } from './sessionRoom.svelte';
import { toApiError } from './sessionRoom.svelte';
import { clockSample, nextOffset } from './sessions';
import {
  applyEvent,
  applySnapshot,
  emptyWorkshop,
  withDotsAck,
  type ActionStatus,
  type Card,
  type Cluster,
  type PlanAction,
  type Pos,
  type Workshop,
  type WorkshopState,
} from './workshops';

/**
 * What the plan form sends (action.create; action.edit adds `action`, the id): the owner is an
 * account or an organisation by id (the server names it), or kind "" for none.
 */
export interface ActionInput {
  title: string;
  cluster: string;
  owner: { kind: 'person' | 'organisation' | ''; id: string };
  /** YYYY-MM-DD or "" */
  due: string;
  resources: string;
}

/** What "turn into proposal" sends (POST /api/v1/workshops/{id}/proposals). */
export interface ProposalInput {
  source: string;
  orgId?: string;
  title?: string;
  body?: string;
  language: string;
  category: string;
}

export class WorkshopRoom {
  state = $state.raw<WorkshopState>(emptyWorkshop());
  /** the server's clock minus ours, in ms */
  offset = $state(0);
  problem = $state<RoomProblem>('');
  loaded = $state(false);

  readonly scope: string;
  private offsetRaw: number | null = null;
  private stops: Array<() => void> = [];
  private ownStop: (() => void) | null = null;
  private ownRoom = '';
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(readonly id: string) {
    this.scope = `workshop:${id}`;
  }

  /** The guest token of this workshop (none for a signed-in person). */
  get token(): string | null {
    return account.user ? null : (guestPass(this.scope)?.token ?? null);
  }

  get workshop(): Workshop | null {
    return this.state.workshop;
  }

  /** Who one is: the snapshot's `me`, else the guest pass or the account. */
  get meId(): string {
    return this.state.me?.id ?? guestPass(this.scope)?.id ?? account.user?.id ?? '';
  }

  private path(suffix = ''): string {
    return `/workshops/${encodeURIComponent(this.id)}${suffix}`;
  }

  start(): void {
    this.stopped = false;
    if (!account.user && activateGuest(this.scope)) live.reconnect();
    this.refresh();
    this.join();
    this.stops.push(
      live.state.subscribe((st) => {
        if (st === 'closed' && live.lastCloseCode === 4003) this.problem = 'signedOut';
      }),
    );
  }

  /** refresh reads the workshop and its board over HTTP (the first view, and after a resync). */
  refresh(): void {
    asGuest(this.token)
      .get<unknown>(this.path())
      .then((d) => this.adopt(d, true))
      .catch((e) => {
        if (e instanceof ApiError) this.failed(e.code);
      });
  }

  private adopt(data: unknown, fresh: boolean): void {
    this.state = applySnapshot(this.state, data);
    this.sample(this.state.workshop?.serverTime, fresh);
    this.loaded = !!this.state.workshop;
    if (this.problem !== 'removed') this.problem = '';
    this.followOwn(this.meId);
  }

  /** followOwn: one's private room brings one's own cards while the brainstorm hides the others. */
  private followOwn(id: string): void {
    if (!id || this.ownRoom === id || this.stopped) return;
    this.ownStop?.();
    this.ownRoom = id;
    this.ownStop = live.subscribe(`participant:${id}`, {
      event: (data) => {
        const ev = data as { type?: string; card?: Card };
        if (ev?.type === 'card.state' && ev.card?.id) {
          this.state = applyEvent(this.state, { type: 'card.state', card: { ...ev.card, mine: true } });
        } else if (ev?.type === 'dots.mine') {
          this.state = applyEvent(this.state, ev);
        }
      },
    });
  }

  private join(): void {
    this.stops.push(
      live.subscribe(this.scope, {
        snapshot: (data) => this.adopt(data, true),
        event: (data) => {
          this.state = applyEvent(this.state, data);
          const ev = data as { type?: string; workshop?: Workshop };
          if (ev?.type === 'workshop.state') this.sample(ev.workshop?.serverTime, false);
        },
        error: (err) => this.failed(err.code),
      }),
    );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    for (const s of this.stops.splice(0)) s();
    this.ownStop?.();
    this.ownStop = null;
    this.ownRoom = '';
  }

  private failed(code: string): void {
    switch (code) {
      case 'unauthorized':
        if (this.token) {
          forgetGuest(this.scope);
          this.problem = 'expired';
        } else {
          this.problem = 'join';
        }
        break;
      case 'not_found':
        this.problem = 'not_found';
        break;
      case 'forbidden':
        this.problem = 'forbidden';
        break;
      case 'unavailable':
        clearTimeout(this.retry);
        this.retry = setTimeout(() => {
          if (this.stopped) return;
          for (const s of this.stops.splice(0)) s();
          this.join();
        }, 3000);
        break;
    }
  }

  private sample(serverTime: string | undefined, fresh: boolean): void {
    this.offsetRaw = nextOffset(this.offsetRaw, clockSample(serverTime, Date.now()), fresh);
    this.offset = this.offsetRaw ?? 0;
  }

  /** act sends one live message and resolves with its ack's value (errors as ApiError). */
  async act(type: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    if (live.status === 'open') {
      try {
        return await live.send(type, { workshop: this.id, ...fields });
      } catch (e) {
        throw toApiError(e);
      }
    }
    return asGuest(this.token).post(this.path('/actions'), { type, ...fields });
  }

  private setWorkshop(ack: unknown): void {
    const w = ack as Workshop | null;
    if (w && typeof w === 'object' && w.id === this.id) this.state = applyEvent(this.state, { type: 'workshop.state', workshop: w });
  }

  private setCard(ack: unknown, mine = false): Card | null {
    const c = ack as Card | null;
    if (!c || typeof c !== 'object' || !c.id) return null;
    this.state = applyEvent(this.state, { type: 'card.state', card: mine ? { ...c, mine: true } : c });
    return c;
  }

  private setCluster(ack: unknown): Cluster | null {
    const k = ack as Cluster | null;
    if (!k || typeof k !== 'object' || !k.id) return null;
    this.state = applyEvent(this.state, { type: 'cluster.state', cluster: k });
    return k;
  }

  private setAction(ack: unknown): void {
    const a = ack as PlanAction | null;
    if (a && typeof a === 'object' && a.id) this.state = applyEvent(this.state, { type: 'action.state', action: a });
  }

  // --- facilitators

  async phase(phase: string): Promise<void> {
    this.setWorkshop(await this.act('workshop.phase', { phase }));
  }

  async timer(minutes: number): Promise<void> {
    this.setWorkshop(await this.act('workshop.timer', { minutes }));
  }

  async lock(locked: boolean): Promise<void> {
    this.setWorkshop(await this.act('workshop.lock', { locked }));
  }

  async spotlight(target: string): Promise<void> {
    this.setWorkshop(await this.act('workshop.spotlight', { target }));
  }

  async hide(card: string, hidden: boolean): Promise<void> {
    this.setCard(await this.act('card.hide', { card, hidden }));
  }

  async createAction(a: ActionInput): Promise<void> {
    this.setAction(await this.act('action.create', { ...a }));
  }

  async editAction(id: string, a: ActionInput): Promise<void> {
    this.setAction(await this.act('action.edit', { action: id, ...a }));
  }

  // --- participants

  async group(group: string): Promise<void> {
    await this.act('workshop.group', { group });
    if (this.state.me) this.state = { ...this.state, me: { ...this.state.me, group } };
  }

  async createCard(text: string, colour: string): Promise<Card | null> {
    return this.setCard(await this.act('card.create', { text, colour }), true);
  }

  async editCard(card: string, fields: { text?: string; colour?: string }): Promise<void> {
    this.setCard(await this.act('card.edit', { card, ...fields }));
  }

  /** moveCard: a new place on the canvas (sent as x, y) and/or another cluster ("" for none). */
  async moveCard(card: string, to: { pos?: Pos; cluster?: string }): Promise<void> {
    const fields: Record<string, unknown> = { card };
    if (to.pos) Object.assign(fields, { x: to.pos.x, y: to.pos.y });
    if (to.cluster !== undefined) fields.cluster = to.cluster;
    this.setCard(await this.act('card.move', fields));
  }

  async createCluster(name: string, pos?: Pos): Promise<Cluster | null> {
    return this.setCluster(await this.act('cluster.create', pos ? { name, x: pos.x, y: pos.y } : { name }));
  }

  async editCluster(cluster: string, fields: { name?: string; pos?: Pos }): Promise<void> {
    const f: Record<string, unknown> = { cluster };
    if (fields.name !== undefined) f.name = fields.name;
    if (fields.pos) Object.assign(f, { x: fields.pos.x, y: fields.pos.y });
    this.setCluster(await this.act('cluster.edit', f));
  }

  async addDot(target: string): Promise<void> {
    this.state = withDotsAck(this.state, await this.act('dot.add', { target }));
  }

  async removeDot(target: string): Promise<void> {
    this.state = withDotsAck(this.state, await this.act('dot.remove', { target }));
  }

  async setStatus(action: string, status: ActionStatus): Promise<void> {
    this.setAction(await this.act('action.status', { action, status }));
  }

  /** toProposal turns a cluster or action into a proposal; resolves with the proposal's id. */
  async toProposal(input: ProposalInput): Promise<string> {
    const p = await asGuest(this.token).post<{ id: string }>(this.path('/proposals'), input);
    const id = p?.id ?? '';
    if (id) {
      const k = this.state.clusters.find((x) => x.id === input.source);
      if (k) this.state = { ...this.state, clusters: this.state.clusters.map((x) => (x.id === k.id ? { ...x, proposalId: id } : x)) };
      const a = this.state.actions.find((x) => x.id === input.source);
      if (a) this.state = { ...this.state, actions: this.state.actions.map((x) => (x.id === a.id ? { ...x, proposalId: id } : x)) };
    }
    return id;
  }
}
