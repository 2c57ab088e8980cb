// The websocket client against a fake WebSocket: subscribe, resume with `since`, resync, gaps,
// backoff, close codes, pings and actions.
import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveClient, liveURL, type SocketLike } from '../src/lib/live';

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // test helpers
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  ofType(type: string) {
    return this.sent.filter((m) => m.type === type);
  }
}

let sockets: FakeSocket[];
function newClient(extra: Partial<ConstructorParameters<typeof LiveClient>[0]> = {}) {
  return new LiveClient({
    url: 'ws://test/ws',
    socket: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    random: () => 1, // no jitter: the ceiling itself
    ...extra,
  });
}
const last = () => sockets[sockets.length - 1];

function hello(s: FakeSocket, heartbeat = 25) {
  s.receive({ type: 'hello', conn: 'c1', principal: null, heartbeat });
}

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LiveClient', () => {
  it('moves through connecting → open → reconnecting → open and exposes the state as a store', () => {
    const c = newClient();
    const seen: string[] = [];
    const unsub = c.state.subscribe((s) => seen.push(s));
    c.connect();
    expect(get(c.state)).toBe('connecting');
    last().open();
    expect(c.status).toBe('open');
    last().drop(1006);
    expect(c.status).toBe('reconnecting');
    vi.advanceTimersByTime(500);
    expect(sockets).toHaveLength(2);
    last().open();
    expect(seen).toEqual(['closed', 'connecting', 'open', 'reconnecting', 'open']);
    unsub();
  });

  it('subscribes rooms on open and delivers the snapshot then events in order', () => {
    const c = newClient();
    const snapshots: unknown[] = [];
    const events: unknown[] = [];
    c.subscribe('org:1', { snapshot: (d) => snapshots.push(d), event: (d) => events.push(d) });
    c.connect();
    last().open();
    const sub = last().ofType('subscribe')[0];
    expect(sub).toMatchObject({ room: 'org:1' });
    expect(sub.since).toBeUndefined();
    last().receive({ type: 'subscribed', room: 'org:1', epoch: 'e1', seq: 4, ref: sub.ref, snapshot: { n: 4 } });
    last().receive({ type: 'event', room: 'org:1', epoch: 'e1', seq: 5, data: 'five' });
    last().receive({ type: 'event', room: 'org:1', epoch: 'e1', seq: 6, data: 'six' });
    last().receive({ type: 'event', room: 'org:1', epoch: 'e1', seq: 6, data: 'six again' }); // duplicate
    expect(snapshots).toEqual([{ n: 4 }]);
    expect(events).toEqual(['five', 'six']);
    expect(c.position('org:1')).toEqual({ epoch: 'e1', seq: 6 });
  });

  it('resubscribes with since {epoch, seq} after a reconnect and applies the recovered events', () => {
    const c = newClient();
    const events: unknown[] = [];
    const snapshots: unknown[] = [];
    c.subscribe('forum:9', { event: (d) => events.push(d), snapshot: (d) => snapshots.push(d) });
    c.connect();
    last().open();
    last().receive({ type: 'subscribed', room: 'forum:9', epoch: 'E', seq: 10, snapshot: {} });
    last().receive({ type: 'event', room: 'forum:9', epoch: 'E', seq: 11, data: 11 });
    last().drop(1001);
    vi.advanceTimersByTime(500);
    last().open();
    const sub = last().ofType('subscribe')[0];
    expect(sub).toMatchObject({ room: 'forum:9', since: { epoch: 'E', seq: 11 } });
    last().receive({ type: 'subscribed', room: 'forum:9', epoch: 'E', seq: 13, recovered: true, ref: sub.ref });
    last().receive({ type: 'event', room: 'forum:9', epoch: 'E', seq: 12, data: 12 });
    last().receive({ type: 'event', room: 'forum:9', epoch: 'E', seq: 13, data: 13 });
    expect(events).toEqual([11, 12, 13]);
    expect(snapshots).toHaveLength(1);
    expect(c.position('forum:9')).toEqual({ epoch: 'E', seq: 13 });
  });

  it('takes a fresh snapshot when the server cannot resume', () => {
    const c = newClient();
    const snapshots: unknown[] = [];
    c.subscribe('r', { snapshot: (d) => snapshots.push(d) });
    c.connect();
    last().open();
    last().receive({ type: 'subscribed', room: 'r', epoch: 'A', seq: 3, snapshot: 'a3' });
    last().drop(4000);
    vi.advanceTimersByTime(500);
    last().open();
    last().receive({ type: 'subscribed', room: 'r', epoch: 'B', seq: 1, snapshot: 'b1' });
    expect(snapshots).toEqual(['a3', 'b1']);
    expect(c.position('r')).toEqual({ epoch: 'B', seq: 1 });
  });

  it('handles resync: replaces the state and continues from the new epoch', () => {
    const c = newClient();
    const snapshots: unknown[] = [];
    const events: unknown[] = [];
    c.subscribe('session:1', { snapshot: (d) => snapshots.push(d), event: (d) => events.push(d) });
    c.connect();
    last().open();
    last().receive({ type: 'subscribed', room: 'session:1', epoch: 'A', seq: 7, snapshot: 's7' });
    last().receive({ type: 'resync', room: 'session:1', epoch: 'B', seq: 2, snapshot: 'fresh' });
    last().receive({ type: 'event', room: 'session:1', epoch: 'B', seq: 3, data: 'b3' });
    expect(snapshots).toEqual(['s7', 'fresh']);
    expect(events).toEqual(['b3']);
    expect(c.position('session:1')).toEqual({ epoch: 'B', seq: 3 });
  });

  it('asks to resume when it notices a gap, and ignores events until the answer', () => {
    const c = newClient();
    const events: unknown[] = [];
    c.subscribe('r', { event: (d) => events.push(d) });
    c.connect();
    last().open();
    last().receive({ type: 'subscribed', room: 'r', epoch: 'A', seq: 1, snapshot: null });
    last().receive({ type: 'event', room: 'r', epoch: 'A', seq: 3, data: 3 }); // 2 is missing
    const subs = last().ofType('subscribe');
    expect(subs).toHaveLength(2);
    expect(subs[1]).toMatchObject({ room: 'r', since: { epoch: 'A', seq: 1 } });
    last().receive({ type: 'event', room: 'r', epoch: 'A', seq: 4, data: 4 }); // before the answer
    last().receive({ type: 'subscribed', room: 'r', epoch: 'A', seq: 4, recovered: true });
    last().receive({ type: 'event', room: 'r', epoch: 'A', seq: 2, data: 2 });
    last().receive({ type: 'event', room: 'r', epoch: 'A', seq: 3, data: 3 });
    last().receive({ type: 'event', room: 'r', epoch: 'A', seq: 4, data: 4 });
    expect(events).toEqual([2, 3, 4]);
  });

  it('backs off 0.5 s doubling to 15 s, and starts again after a hello', () => {
    const c = newClient();
    c.connect();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = sockets.length;
      last().drop(1006);
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(c.backoff(20)).toBe(15000);
    last().open();
    hello(last());
    last().drop(1006);
    vi.advanceTimersByTime(499);
    const n = sockets.length;
    vi.advanceTimersByTime(1);
    expect(sockets.length).toBe(n + 1);
  });

  it('jitters each delay between half and all of its ceiling', () => {
    const low = newClient({ random: () => 0 });
    const high = newClient({ random: () => 0.999999 });
    expect(low.backoff(0)).toBe(250);
    expect(high.backoff(0)).toBe(500);
    expect(low.backoff(10)).toBe(7500);
    expect(high.backoff(10)).toBe(15000);
  });

  it('does not reconnect after 1000, 1008 or 4003', () => {
    for (const code of [1000, 1008, 4003]) {
      sockets = [];
      const c = newClient();
      c.connect();
      last().open();
      last().drop(code);
      expect(c.status).toBe('closed');
      vi.advanceTimersByTime(60000);
      expect(sockets).toHaveLength(1);
      expect(c.lastCloseCode).toBe(code);
    }
  });

  it('reconnects after 1001, 1009, 4000 and (after a pause) 4001', () => {
    for (const code of [1001, 1009, 4000]) {
      sockets = [];
      const c = newClient();
      c.connect();
      last().open();
      last().drop(code);
      expect(c.status).toBe('reconnecting');
      vi.advanceTimersByTime(500);
      expect(sockets).toHaveLength(2);
      c.close();
    }
    sockets = [];
    const c = newClient({ floodPause: 5000 });
    c.connect();
    last().open();
    last().drop(4001);
    vi.advanceTimersByTime(5499);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
  });

  it('sends the token first, before any subscribe', () => {
    const c = newClient({ token: () => 'guest-token' });
    c.subscribe('workshop:2', {});
    c.connect();
    last().open();
    expect(last().sent.map((m) => m.type)).toEqual(['auth', 'subscribe']);
    expect(last().sent[0]).toEqual({ type: 'auth', token: 'guest-token' });
    expect(last().url).toBe('ws://test/ws');
  });

  it('pings at the heartbeat interval and drops a connection that stopped answering', () => {
    const c = newClient();
    c.connect();
    last().open();
    hello(last(), 10);
    vi.advanceTimersByTime(10000);
    expect(last().ofType('ping')).toHaveLength(1);
    last().receive({ type: 'pong', ref: last().ofType('ping')[0].ref });
    vi.advanceTimersByTime(10000);
    expect(last().ofType('ping')).toHaveLength(2);
    // silence from now on
    vi.advanceTimersByTime(20000);
    expect(c.status).toBe('reconnecting');
    expect(sockets[0].closedWith).toBeDefined();
    vi.advanceTimersByTime(500);
    expect(sockets).toHaveLength(2);
  });

  it('resolves actions on ack and rejects them on error with the same ref', async () => {
    const c = newClient();
    c.connect();
    last().open();
    const ok = c.send('poll.vote', { poll: 'p', option: 1 });
    const bad = c.send('poll.vote', { poll: 'p', option: 9 });
    const [a, b] = last().ofType('poll.vote');
    expect(a).toMatchObject({ poll: 'p', option: 1 });
    last().receive({ type: 'ack', ref: a.ref, data: { stored: true } });
    last().receive({ type: 'error', ref: b.ref, code: 'invalid', message: 'no such option' });
    await expect(ok).resolves.toEqual({ stored: true });
    await expect(bad).rejects.toMatchObject({ code: 'invalid' });
    await expect(newClient().send('x')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('reports a refused subscribe to the room handlers', () => {
    const c = newClient();
    const errors: unknown[] = [];
    c.subscribe('participant:other', { error: (e) => errors.push(e) });
    c.connect();
    last().open();
    last().receive({ type: 'error', code: 'forbidden', room: 'participant:other', message: 'no' });
    expect(errors).toEqual([expect.objectContaining({ code: 'forbidden', room: 'participant:other' })]);
  });

  it('unsubscribes when the last handler leaves, and stops on close()', () => {
    const c = newClient();
    c.connect();
    last().open();
    const leave1 = c.subscribe('r', {});
    const leave2 = c.subscribe('r', {});
    leave1();
    expect(last().ofType('unsubscribe')).toHaveLength(0);
    leave2();
    expect(last().ofType('unsubscribe')).toEqual([expect.objectContaining({ room: 'r' })]);
    expect(c.roomNames()).toEqual([]);
    c.close();
    expect(c.status).toBe('closed');
    vi.advanceTimersByTime(60000);
    expect(sockets).toHaveLength(1);
  });

  it('reconnect() opens a new connection at once and resumes', () => {
    const c = newClient();
    c.subscribe('r', {});
    c.connect();
    last().open();
    last().receive({ type: 'subscribed', room: 'r', epoch: 'A', seq: 2, snapshot: null });
    c.reconnect();
    expect(sockets).toHaveLength(2);
    expect(c.status).toBe('reconnecting');
    last().open();
    expect(last().ofType('subscribe')[0]).toMatchObject({ since: { epoch: 'A', seq: 2 } });
  });

  it('builds the /ws URL from the page origin', () => {
    expect(liveURL({ protocol: 'https:', host: 'forum.example.org' })).toBe('wss://forum.example.org/ws');
    expect(liveURL({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws');
  });
});
