// The live state of one session for its pages (participant, host console, projector): the
// first view from GET /api/v1/sessions/{id}, then the snapshot and events of the room
// `session:<id>` (and `session-host:<id>` for hosts), and the actions of docs/PROTOCOL.md sent
// over the websocket (or over HTTP while it is down), their acks applied like events.
import { ApiError, asGuest } from './api';
import { live } from './connection';
import { activateGuest, forgetGuest, guestPass } from './guest';
import type { LiveError } from './live';
import { session as account } from './session.svelte';
import {
  adoptSession,
  applyEvent,
  applyHostEvent,
  applyHostSnapshot,
  applySnapshot,
  clockSample,
  emptyHost,
  emptyRoom,
  nextOffset,
  withAsked,
  withBallot,
  withUpvote,
  type Hand,
  type HostState,
  type LiveSession,
  type Poll,
  type PollDraft,
  type Question,
  type QuestionStatus,
  type RoomState,
} from './sessions';

/** Why the room cannot be shown ('' when it can). */
export type RoomProblem = '' | 'join' | 'expired' | 'removed' | 'signedOut' | 'not_found' | 'forbidden';

/** toApiError gives a websocket error the HTTP error's shape, so forms show it the same way. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const l = (e ?? {}) as LiveError;
  return new ApiError(0, { code: l.code || 'internal', message: l.message, fields: l.fields, limits: l.limits }, l.retryAfter ?? null);
}

export class SessionRoom {
  room = $state.raw<RoomState>(emptyRoom());
  hosts = $state.raw<HostState>(emptyHost());
  /** the server's clock minus ours, in ms */
  offset = $state(0);
  problem = $state<RoomProblem>('');
  /** a first view arrived */
  loaded = $state(false);

  readonly scope: string;
  private offsetRaw: number | null = null;
  private stops: Array<() => void> = [];
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private ownRoom = '';

  constructor(
    readonly id: string,
    private readonly asHost = false,
  ) {
    this.scope = `session:${id}`;
  }

  /** The guest token of this session (none for a signed-in person). */
  get token(): string | null {
    return account.user ? null : (guestPass(this.scope)?.token ?? null);
  }

  get session(): LiveSession | null {
    return this.room.session;
  }

  private path(suffix = ''): string {
    return `/sessions/${encodeURIComponent(this.id)}${suffix}`;
  }

  start(): void {
    this.stopped = false;
    if (!account.user && activateGuest(this.scope)) live.reconnect();
    asGuest(this.token)
      .get<LiveSession>(this.path())
      .then((s) => {
        this.sample(s.serverTime, this.offsetRaw === null);
        this.room = { ...this.room, session: adoptSession(this.room.session, s) };
        this.loaded = true;
      })
      .catch((e) => {
        if (e instanceof ApiError) this.failed(e.code);
      });
    this.join();
    this.stops.push(
      live.state.subscribe((st) => {
        if (st === 'open' || st === 'connecting') return;
        if (live.lastCloseCode === 4004) {
          // A host removed this person from the session: say so, and do not come back (the
          // connection itself reconnects for the other rooms, without the revoked guest pass).
          if (!account.user) forgetGuest(this.scope);
          this.problem = 'removed';
          this.stop();
        } else if (st === 'closed' && live.lastCloseCode === 4003) {
          this.problem = 'signedOut';
        }
      }),
    );
  }

  /** followOwn: one's private room brings one's own pending questions (dismissed, or asked elsewhere). */
  private followOwn(id: string): void {
    if (!id || this.ownRoom === id || this.stopped) return;
    this.ownRoom = id;
    this.stops.push(
      live.subscribe(`participant:${id}`, {
        event: (data) => {
          const ev = data as { type?: string; question?: Question };
          if (ev?.type === 'question.state' && ev.question?.id) {
            this.room = withAsked(this.room, ev.question);
            this.room = applyEvent(this.room, { type: 'question.state', question: { ...ev.question, mine: true } });
          }
        },
      }),
    );
  }

  private join(): void {
    this.stops.push(
      live.subscribe(this.scope, {
        snapshot: (data) => {
          this.room = applySnapshot(this.room, data);
          this.sample(this.room.session?.serverTime, true);
          this.loaded = true;
          if (this.problem !== 'removed') this.problem = '';
          if (this.room.me?.id) this.followOwn(this.room.me.id);
        },
        event: (data) => {
          this.room = applyEvent(this.room, data);
          if (this.asHost) this.hosts = applyHostEvent(this.hosts, data);
          const ev = data as { type?: string; session?: LiveSession };
          if (ev?.type === 'session.state') this.sample(ev.session?.serverTime, false);
        },
        error: (err) => this.failed(err.code),
      }),
    );
    if (this.asHost) {
      this.stops.push(
        live.subscribe(`session-host:${this.id}`, {
          snapshot: (data) => (this.hosts = applyHostSnapshot(data)),
          event: (data) => {
            this.hosts = applyHostEvent(this.hosts, data);
            // Drafts, and the live results of polls whose results participants see at close.
            const type = (data as { type?: string })?.type;
            if (type === 'poll.state' || type === 'poll.deleted' || type === 'poll.results') this.room = applyEvent(this.room, data);
          },
        }),
      );
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    for (const s of this.stops.splice(0)) s();
    this.ownRoom = '';
  }

  private failed(code: string): void {
    if (this.problem === 'removed') return;
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
        // The broker could not be reached for the subscribe: try again a little later.
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

  /** act sends one live action and resolves with its ack's value (errors as ApiError). */
  async act(type: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    if (live.status === 'open') {
      try {
        return await live.send(type, { session: this.id, ...fields });
      } catch (e) {
        throw toApiError(e);
      }
    }
    return asGuest(this.token).post(this.path('/actions'), { type, ...fields });
  }

  // --- participants

  async vote(pollId: string, fields: Record<string, unknown>): Promise<void> {
    const ack = await this.act('poll.vote', fields);
    this.room = withBallot(this.room, pollId, fields, ack);
  }

  async ask(text: string, anonymous: boolean): Promise<Question | null> {
    const q = (await this.act('question.ask', { text, anonymous })) as Question | null;
    this.room = withAsked(this.room, q);
    return q;
  }

  async upvote(id: string): Promise<void> {
    const ack = await this.act('question.upvote', { question: id });
    this.room = withUpvote(this.room, id, ack);
  }

  private setQueue(ack: unknown): void {
    const q = Array.isArray(ack) ? ack : (ack as { queue?: Hand[] } | null)?.queue;
    if (Array.isArray(q)) this.room = { ...this.room, queue: q as Hand[] };
  }

  async raiseHand(): Promise<void> {
    this.setQueue(await this.act('hand.raise'));
  }

  async lowerHand(): Promise<void> {
    this.setQueue(await this.act('hand.lower'));
  }

  // --- hosts

  private setSession(ack: unknown): void {
    const s = ack as LiveSession | null;
    if (s && s.id === this.id) this.room = { ...this.room, session: adoptSession(this.room.session, s) };
  }

  async control(action: 'start' | 'end' | 'next' | 'item', item?: string): Promise<void> {
    this.setSession(await this.act('session.control', item === undefined ? { action } : { action, item }));
  }

  private setPoll(ack: unknown): void {
    const p = ack as Poll | null;
    if (p && p.id) this.room = applyEvent(this.room, { type: 'poll.state', poll: p });
  }

  async createPoll(poll: PollDraft): Promise<void> {
    this.setPoll(await this.act('poll.create', { poll }));
  }

  async openPoll(id: string): Promise<void> {
    this.setPoll(await this.act('poll.open', { poll: id }));
  }

  async closePoll(id: string): Promise<void> {
    this.setPoll(await this.act('poll.close', { poll: id }));
  }

  async deletePoll(id: string): Promise<void> {
    await this.act('poll.delete', { poll: id });
    this.room = applyEvent(this.room, { type: 'poll.deleted', poll: id });
  }

  async moderate(id: string, status: Exclude<QuestionStatus, 'pending'>): Promise<void> {
    const q = (await this.act('question.moderate', { question: id, status })) as Question | null;
    const ev = { type: 'question.state', question: q && q.id ? q : { ...this.findQuestion(id), status } };
    if (ev.question && ev.question.id) {
      this.room = applyEvent(this.room, ev);
      this.hosts = applyHostEvent(this.hosts, ev);
    }
  }

  private findQuestion(id: string): Question | undefined {
    return this.room.questions.find((q) => q.id === id) ?? this.hosts.pending.find((q) => q.id === id);
  }

  async giveFloor(participant: string): Promise<void> {
    this.setSession(await this.act('floor.give', { participant }));
  }

  async endFloor(): Promise<void> {
    this.setSession(await this.act('floor.end'));
  }

  async removeHand(participant: string): Promise<void> {
    this.setQueue(await this.act('hand.remove', { participant }));
  }

  async removeParticipant(participant: string): Promise<void> {
    await this.act('participant.remove', { participant });
    this.hosts = { ...this.hosts, participants: this.hosts.participants.filter((p) => p.id !== participant) };
  }

  /** update changes the session's details, agenda or co-hosts (PATCH /sessions/{id}). */
  async update(body: Record<string, unknown>): Promise<LiveSession> {
    const s = await asGuest(this.token).patch<LiveSession>(this.path(), body);
    this.setSession(s);
    return s;
  }
}

/** Ticker: the current time, refreshed every second while started (for countdowns). */
export class Ticker {
  now = $state(Date.now());
  private timer: ReturnType<typeof setInterval> | undefined;

  start(): void {
    this.stop();
    this.now = Date.now();
    this.timer = setInterval(() => (this.now = Date.now()), 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
