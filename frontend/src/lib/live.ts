// The live-room websocket client (docs/PROTOCOL.md).
//
// One connection per tab. Pages join rooms with subscribe(room, handlers) and get a snapshot and
// then events in order. The client remembers the last {epoch, seq} it applied per room and sends
// it as `since` when it subscribes again after a reconnect, so the server replays exactly the
// missed events (or sends a fresh snapshot). A `resync` replaces the room's state. The
// connection reconnects with jittered exponential backoff (0.5 s doubling to 15 s), sends `ping`
// messages so a dead network is noticed, and exposes its state as a Svelte store
// (`client.state`, usable as `$state` in components through `$client.state` or `fromStore`).
import { writable, type Readable } from 'svelte/store';

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Position {
  epoch: string;
  seq: number;
}

export interface RoomHandlers {
  /** The room's current state: replace local state (after subscribe without resume, or resync). */
  snapshot?(data: unknown, pos: Position): void;
  /** One event, in order. */
  event?(data: unknown, pos: Position): void;
  /** The server refused something about this room (e.g. forbidden subscribe). */
  error?(err: LiveError): void;
}

export interface LiveError {
  code: string;
  message?: string;
  room?: string;
  ref?: string;
  /** as in the HTTP API: field codes, limits, and seconds to wait after `too_many` */
  fields?: Record<string, string>;
  limits?: Record<string, number>;
  retryAfter?: number;
}

/** Minimal WebSocket surface used here, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface LiveOptions {
  /** ws:// or wss:// URL of /ws, or a function computing it at each connect. */
  url: string | (() => string);
  /** Creates the socket; defaults to the browser's WebSocket. */
  socket?: SocketFactory;
  /** A guest or API token sent as the first message (never in the URL). */
  token?: () => string | null | undefined;
  /** Random source in [0, 1) for the jitter; injectable for tests. */
  random?: () => number;
  /** First reconnect delay (ms); doubles up to maxDelay. */
  baseDelay?: number;
  maxDelay?: number;
  /** Client ping interval (ms) until the server's hello says otherwise. */
  pingInterval?: number;
  /** Time to wait for an ack of an action (ms). */
  ackTimeout?: number;
  /** Extra pause after a 4001 flood close (ms). */
  floodPause?: number;
}

const OPEN = 1;

/** Close codes after which the client must not reconnect by itself. */
const FINAL_CLOSE = new Set([1000, 1008, 4003]);

interface Room {
  handlers: Set<RoomHandlers>;
  pos: Position | null;
  /** subscribe sent on this connection and not yet answered */
  pending: boolean;
}

interface Pending {
  resolve(data: unknown): void;
  reject(err: LiveError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class LiveClient {
  readonly state: Readable<LiveState>;
  /** The principal from the last hello/authed frame (null: anonymous). */
  principal: unknown = null;
  /** The last close code received (for diagnostics and tests). */
  lastCloseCode: number | null = null;

  private setState: (s: LiveState) => void;
  private current: LiveState = 'closed';
  private ws: SocketLike | null = null;
  private rooms = new Map<string, Room>();
  private pendingActions = new Map<string, Pending>();
  private attempt = 0;
  private refCounter = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private wanted = false; // the app wants a connection (connect() called, close() not)
  private pingEvery: number;
  private opts: Required<Omit<LiveOptions, 'token' | 'socket'>> & Pick<LiveOptions, 'token' | 'socket'>;

  constructor(options: LiveOptions) {
    this.opts = {
      random: Math.random,
      baseDelay: 500,
      maxDelay: 15000,
      pingInterval: 25000,
      ackTimeout: 10000,
      floodPause: 5000,
      ...options,
    };
    this.pingEvery = this.opts.pingInterval;
    const store = writable<LiveState>('closed');
    this.state = { subscribe: store.subscribe };
    this.setState = (s) => {
      this.current = s;
      store.set(s);
    };
  }

  /** The current state, without subscribing. */
  get status(): LiveState {
    return this.current;
  }

  /** connect opens the connection (idempotent). */
  connect(): void {
    this.wanted = true;
    if (this.ws || this.reconnectTimer) return;
    this.open(false);
  }

  /** close ends the connection and stops reconnecting; rooms and positions are kept. */
  close(): void {
    this.wanted = false;
    this.clearReconnect();
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(1000, 'client closed');
      } catch {
        /* already closed */
      }
    }
    this.failPending('unavailable');
    this.setState('closed');
  }

  /**
   * reconnect drops the connection and opens a new one at once, resuming every room (after a
   * sign-in or sign-out, so the server sees the new session cookie; or when the network is back).
   */
  reconnect(): void {
    this.wanted = true;
    this.clearReconnect();
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(1000, 'reconnecting');
      } catch {
        /* ignore */
      }
    }
    this.failPending('unavailable');
    this.attempt = 0;
    this.open(true);
  }

  /** subscribe joins a room; the returned function leaves it. */
  subscribe(room: string, handlers: RoomHandlers): () => void {
    let r = this.rooms.get(room);
    const isNew = !r;
    if (!r) {
      r = { handlers: new Set(), pos: null, pending: false };
      this.rooms.set(room, r);
    }
    r.handlers.add(handlers);
    if (this.isOpen()) {
      // A late joiner of an already joined room needs the room's state too: ask for a snapshot,
      // which every handler of the room applies ("forget older events").
      if (!isNew) r.pos = null;
      this.sendSubscribe(room, r);
    }
    return () => this.leave(room, handlers);
  }

  /** position returns the last applied {epoch, seq} of a room. */
  position(room: string): Position | null {
    return this.rooms.get(room)?.pos ?? null;
  }

  /** rooms currently joined. */
  roomNames(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * send performs a domain action and resolves with the ack's data once the server has stored it,
   * or rejects with the server's error (or `unavailable` when not connected / no answer in time).
   */
  send(type: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    if (!this.isOpen()) return Promise.reject<unknown>({ code: 'unavailable' } satisfies LiveError);
    const ref = this.nextRef();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingActions.delete(ref);
        reject({ code: 'unavailable', ref } satisfies LiveError);
      }, this.opts.ackTimeout);
      this.pendingActions.set(ref, { resolve, reject, timer });
      this.write({ ...fields, type, ref });
    });
  }

  // --- connection lifecycle -------------------------------------------------------------------

  private open(again: boolean): void {
    this.setState(again ? 'reconnecting' : 'connecting');
    const url = typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url;
    const factory: SocketFactory =
      this.opts.socket ?? ((u) => new WebSocket(u) as unknown as SocketLike);
    let ws: SocketLike;
    try {
      ws = factory(url);
    } catch {
      this.scheduleReconnect(0);
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = (ev) => this.onClose(ws, ev.code);
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  private detach(ws: SocketLike): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
  }

  private onOpen(ws: SocketLike): void {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    const token = this.opts.token?.();
    if (token) this.write({ type: 'auth', token });
    for (const [name, room] of this.rooms) this.sendSubscribe(name, room);
    this.setState('open');
    this.startPing();
  }

  private onClose(ws: SocketLike, code: number): void {
    if (ws !== this.ws) return;
    this.detach(ws);
    this.ws = null;
    this.lastCloseCode = code;
    this.stopPing();
    this.failPending('unavailable');
    for (const r of this.rooms.values()) r.pending = false;
    if (!this.wanted || FINAL_CLOSE.has(code)) {
      this.wanted = false;
      this.setState('closed');
      return;
    }
    this.scheduleReconnect(code === 4001 ? this.opts.floodPause : 0);
  }

  /** backoff is the delay before reconnect attempt n (0-based): 0.5 s doubling to 15 s, jittered. */
  backoff(n: number): number {
    const ceiling = Math.min(this.opts.maxDelay, this.opts.baseDelay * 2 ** n);
    // "Equal jitter": between half and all of the ceiling, so clients that lost the same server
    // do not come back at the same instant, yet none retries much sooner than planned.
    return Math.round(ceiling / 2 + this.opts.random() * (ceiling / 2));
  }

  private scheduleReconnect(extra: number): void {
    this.setState('reconnecting');
    const delay = this.backoff(this.attempt) + extra;
    this.attempt++;
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.wanted) this.open(true);
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = setInterval(() => this.pingTick(), this.pingEvery);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private pingTick(): void {
    const ws = this.ws;
    if (!ws) return;
    // Nothing heard for two intervals (not even the pong of the last ping): the network is dead.
    if (Date.now() - this.lastHeard > 2 * this.pingEvery) {
      this.detach(ws);
      this.ws = null;
      try {
        ws.close(4999, 'no answer');
      } catch {
        /* ignore */
      }
      this.onDead();
      return;
    }
    this.write({ type: 'ping', ref: this.nextRef() });
  }

  private onDead(): void {
    this.stopPing();
    this.failPending('unavailable');
    for (const r of this.rooms.values()) r.pending = false;
    if (this.wanted) this.scheduleReconnect(0);
    else this.setState('closed');
  }

  // --- messages -------------------------------------------------------------------------------

  private onMessage(ws: SocketLike, raw: unknown): void {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(raw));
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'hello': {
        this.principal = msg.principal ?? null;
        this.attempt = 0; // the server accepted us: the next failure starts the backoff afresh
        const hb = Number(msg.heartbeat);
        if (hb > 0) {
          this.pingEvery = hb * 1000;
          this.startPing();
        }
        break;
      }
      case 'authed':
        this.principal = msg.principal ?? null;
        break;
      case 'subscribed':
        this.onSubscribed(msg);
        break;
      case 'event':
        this.onEvent(msg);
        break;
      case 'resync': {
        const room = this.rooms.get(String(msg.room));
        if (!room) break;
        const pos = { epoch: String(msg.epoch), seq: Number(msg.seq) };
        room.pos = pos;
        for (const h of room.handlers) h.snapshot?.(msg.snapshot, pos);
        break;
      }
      case 'ack': {
        const p = this.pendingActions.get(String(msg.ref));
        if (p) {
          clearTimeout(p.timer);
          this.pendingActions.delete(String(msg.ref));
          p.resolve(msg.data);
        }
        break;
      }
      case 'error': {
        const err: LiveError = {
          code: String(msg.code ?? 'internal'),
          message: typeof msg.message === 'string' ? msg.message : undefined,
          room: typeof msg.room === 'string' ? msg.room : undefined,
          ref: typeof msg.ref === 'string' ? msg.ref : undefined,
        };
        if (msg.fields && typeof msg.fields === 'object') err.fields = msg.fields as Record<string, string>;
        if (msg.limits && typeof msg.limits === 'object') err.limits = msg.limits as Record<string, number>;
        if (typeof msg.retryAfter === 'number') err.retryAfter = msg.retryAfter;
        if (err.ref && this.pendingActions.has(err.ref)) {
          const p = this.pendingActions.get(err.ref)!;
          clearTimeout(p.timer);
          this.pendingActions.delete(err.ref);
          p.reject(err);
        }
        if (err.room) {
          const room = this.rooms.get(err.room);
          if (room) {
            room.pending = false;
            for (const h of room.handlers) h.error?.(err);
          }
        }
        break;
      }
      case 'pong':
      case 'unsubscribed':
      default:
        break;
    }
  }

  private onSubscribed(msg: Record<string, unknown>): void {
    const room = this.rooms.get(String(msg.room));
    if (!room) return;
    room.pending = false;
    const epoch = String(msg.epoch);
    const seq = Number(msg.seq);
    if (msg.recovered === true && room.pos && room.pos.epoch === epoch) {
      // The missed events follow as event frames and advance the position.
      return;
    }
    const pos = { epoch, seq };
    room.pos = pos;
    if ('snapshot' in msg) for (const h of room.handlers) h.snapshot?.(msg.snapshot, pos);
  }

  private onEvent(msg: Record<string, unknown>): void {
    const name = String(msg.room);
    const room = this.rooms.get(name);
    if (!room || room.pending) return; // events before the subscribe answer belong to the old state
    const pos = { epoch: String(msg.epoch), seq: Number(msg.seq) };
    const cur = room.pos;
    if (cur && cur.epoch === pos.epoch) {
      if (pos.seq <= cur.seq) return; // already applied (a replay overlapping what we had)
      if (pos.seq > cur.seq + 1) {
        // A gap: ask the server for what we missed (or a snapshot).
        this.sendSubscribe(name, room);
        return;
      }
    } else if (cur) {
      // Another epoch without a resync: our state is unreliable, take a snapshot.
      room.pos = null;
      this.sendSubscribe(name, room);
      return;
    }
    room.pos = pos;
    for (const h of room.handlers) h.event?.(msg.data, pos);
  }

  // --- helpers --------------------------------------------------------------------------------

  private leave(room: string, handlers: RoomHandlers): void {
    const r = this.rooms.get(room);
    if (!r) return;
    r.handlers.delete(handlers);
    if (r.handlers.size > 0) return;
    this.rooms.delete(room);
    if (this.isOpen()) this.write({ type: 'unsubscribe', room, ref: this.nextRef() });
  }

  private sendSubscribe(name: string, room: Room): void {
    const msg: Record<string, unknown> = { type: 'subscribe', room: name, ref: this.nextRef() };
    if (room.pos) msg.since = { epoch: room.pos.epoch, seq: room.pos.seq };
    room.pending = true;
    this.write(msg);
  }

  private isOpen(): boolean {
    return !!this.ws && this.ws.readyState === OPEN && this.current === 'open';
  }

  private write(msg: Record<string, unknown>): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    try {
      ws.send(JSON.stringify(msg));
    } catch {
      /* the close event will follow */
    }
  }

  private nextRef(): string {
    this.refCounter++;
    return String(this.refCounter);
  }

  private failPending(code: string): void {
    for (const [ref, p] of this.pendingActions) {
      clearTimeout(p.timer);
      p.reject({ code, ref });
    }
    this.pendingActions.clear();
  }
}

/** liveURL is the /ws address of the page's own origin. */
export function liveURL(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}
