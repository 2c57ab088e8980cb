// The workshop page against a fake live connection: joining a workshop by code, the private
// brainstorm, the list view grouped by cluster with "move to cluster", the dot budget and a
// refused dot, and the facilitator's phase control.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { activeGuestToken, guestPass } from '../src/lib/guest';
import { route } from '../src/lib/router.svelte';
import { session } from '../src/lib/session.svelte';
import JoinPage from '../src/pages/Join.svelte';
import WorkshopPage from '../src/pages/Workshop.svelte';
import { jsonResponse, useEnglish } from './helpers';

type Handlers = { snapshot?: (d: unknown, p?: unknown) => void; event?: (d: unknown, p?: unknown) => void; error?: (e: unknown) => void };
const rooms: Array<{ room: string; handlers: Handlers }> = [];
const sent: Array<{ type: string; fields: Record<string, unknown> }> = [];
const answers: Record<string, (fields: Record<string, unknown>) => unknown> = {};

vi.mock('../src/lib/connection', () => ({
  live: {
    reconnect: vi.fn(),
    status: 'open',
    lastCloseCode: null,
    subscribe: vi.fn((room: string, handlers: Handlers) => {
      rooms.push({ room, handlers });
      return () => {};
    }),
    send: vi.fn(async (type: string, fields: Record<string, unknown>) => {
      sent.push({ type, fields });
      const a = answers[type];
      return a ? a(fields) : undefined;
    }),
    state: {
      subscribe: (f: (s: string) => void) => {
        f('open');
        return () => {};
      },
    },
  },
  startLive: vi.fn(),
}));

function workshop(over: Record<string, unknown> = {}) {
  return {
    id: 'w1',
    forumId: 'f1',
    title: 'Via Roma park',
    brief: { it: 'Che cosa serve al parco?', en: 'What does the park need?' },
    scheduledAt: '2026-03-01T17:00:00Z',
    settings: { anonymous: false, dots: 5, maxDotsPerCard: 3, facilitatorMoves: false },
    groups: [],
    phase: 'brainstorm',
    locked: false,
    spotlight: '',
    version: 1,
    facilitator: false,
    serverTime: new Date().toISOString(),
    ...over,
  };
}

function snapshot(over: Record<string, unknown> = {}) {
  return {
    workshop: workshop(),
    cards: [],
    clusters: [],
    counts: { total: 0, byGroup: {} },
    dots: [],
    progress: { voters: 0, spent: 0 },
    results: [],
    actions: [],
    me: { id: 'g1', name: 'Amina', guest: true },
    facilitator: false,
    ...over,
  };
}

function roomOf(name: string): Handlers {
  const r = rooms.find((x) => x.room === name);
  if (!r) throw new Error(`not subscribed to ${name}`);
  return r.handlers;
}

beforeEach(() => {
  useEnglish();
  localStorage.clear();
  rooms.length = 0;
  sent.length = 0;
  for (const k of Object.keys(answers)) delete answers[k];
  session.user = null;
  session.ready = true;
  history.replaceState(null, '', '/');
  window.scrollTo = vi.fn() as unknown as typeof window.scrollTo;
});
afterEach(() => vi.unstubAllGlobals());

/** A fetch that answers the workshop's GET with a snapshot and the forum's with a forum. */
function stubFetch(snap: unknown) {
  const fetch = vi.fn(async (url: string) => {
    if (url === '/api/v1/workshops/w1') return jsonResponse(200, snap);
    if (url === '/api/v1/forums/f1') return jsonResponse(200, { id: 'f1', title: { en: 'San Severo' }, categories: ['housing'] });
    return jsonResponse(404, { error: { code: 'not_found' } });
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

describe('joining a workshop', () => {
  it('keeps the guest pass under the workshop and opens the workshop page', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(jsonResponse(200, { kind: 'workshop', id: 'w1', token: 'ws-token', principal: { id: 'g1', name: 'Amina', guest: true } })),
    );
    render(JoinPage);
    await fireEvent.input(screen.getByLabelText('Code'), { target: { value: '7KX4PQ2MZA' } });
    await fireEvent.input(screen.getByLabelText('Your name'), { target: { value: 'Amina' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    await waitFor(() => expect(route.path).toBe('/workshops/w1'));
    expect(guestPass('workshop:w1')?.token).toBe('ws-token');
    expect(activeGuestToken()).toBe('ws-token');
    expect(location.href).not.toContain('ws-token');
  });
});

describe('the workshop page', () => {
  it('shows the brief in the reader’s language, the phase and the counts; writes a card privately', async () => {
    // As the server sends it: `mine` counts one's cards when the snapshot was taken.
    stubFetch(snapshot({ counts: { total: 0, byGroup: {}, mine: 0 } }));
    answers['card.create'] = (f) => ({ id: 'w1~c1', text: f.text, colour: f.colour, createdAt: '2026-03-01T17:01:00Z', versions: { text: 'w1~c1|text|1' } });
    render(WorkshopPage, { id: 'w1' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Via Roma park' })).toBeInTheDocument();
    expect(screen.getByTestId('brief')).toHaveTextContent('What does the park need?');
    expect(screen.getByRole('listitem', { current: 'step' })).toHaveTextContent('Ideas');
    roomOf('workshop:w1').event?.({ type: 'cards.count', total: 4, byGroup: {} });
    await waitFor(() => expect(screen.getByTestId('card-count')).toHaveTextContent('Cards written: 4'));

    await fireEvent.input(screen.getByLabelText('Your idea'), { target: { value: ' More shade ' } });
    await fireEvent.click(screen.getByLabelText('Green'));
    await fireEvent.click(screen.getByRole('button', { name: 'Add the card' }));
    await waitFor(() => expect(within(screen.getByTestId('my-cards')).getByText('More shade')).toBeInTheDocument());
    expect(sent[0]).toEqual({ type: 'card.create', fields: { workshop: 'w1', text: 'More shade', colour: 'green' } });
    // The room's next count says nothing of whose cards they are: one's own count is one's cards.
    roomOf('workshop:w1').event?.({ type: 'cards.count', total: 5, byGroup: {} });
    await waitFor(() => expect(screen.getByTestId('card-count')).toHaveTextContent('Cards written: 5 · yours: 1'));
    // Its author may still edit it in the brainstorm.
    answers['card.edit'] = (f) => ({ id: 'w1~c1', text: f.text, colour: 'green', versions: { text: 'w1~c1|text|2' } });
    await fireEvent.click(within(screen.getByTestId('my-cards')).getByRole('button', { name: 'Edit' }));
    await fireEvent.input(within(screen.getByTestId('my-cards')).getByLabelText('Your idea'), { target: { value: 'More shade and water' } });
    await fireEvent.click(within(screen.getByTestId('my-cards')).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(within(screen.getByTestId('my-cards')).getByText('More shade and water')).toBeInTheDocument());
    expect(sent.at(-1)).toEqual({ type: 'card.edit', fields: { workshop: 'w1', card: 'w1~c1', text: 'More shade and water' } });
    // One's own cards also come through one's private room.
    expect(rooms.some((r) => r.room === 'participant:g1')).toBe(true);
  });

  it('shows the board as a list grouped by cluster and moves a card with a select', async () => {
    stubFetch(
      snapshot({
        workshop: workshop({ phase: 'cluster' }),
        cards: [
          { id: 'c1', text: 'Benches', colour: 'yellow', cluster: '', createdAt: '2026-03-01T17:01:00Z' },
          { id: 'c2', text: 'Trees', colour: 'green', cluster: 'k1', createdAt: '2026-03-01T17:02:00Z' },
        ],
        clusters: [{ id: 'k1', name: 'Green' }],
      }),
    );
    answers['card.move'] = (f) => ({ id: 'c1', text: 'Benches', colour: 'yellow', cluster: f.cluster, versions: { cluster: 'c1|cluster|9' } });
    render(WorkshopPage, { id: 'w1' });
    const loose = await screen.findByRole('region', { name: /Not in a cluster/ });
    const green = screen.getByRole('region', { name: /Green/ });
    expect(within(loose).getByText('Benches')).toBeInTheDocument();
    expect(within(green).getByText('Trees')).toBeInTheDocument();
    const select = within(loose).getByLabelText('Move to cluster');
    await fireEvent.change(select, { target: { value: 'k1' } });
    await waitFor(() => expect(within(screen.getByRole('region', { name: /Green/ })).getByText('Benches')).toBeInTheDocument());
    expect(sent.at(-1)).toEqual({ type: 'card.move', fields: { workshop: 'w1', card: 'c1', cluster: 'k1' } });
  });

  it('shows the dot budget and translates a refused dot', async () => {
    stubFetch(
      snapshot({
        workshop: workshop({ phase: 'vote' }),
        cards: [{ id: 'c1', text: 'Benches', colour: 'yellow', createdAt: '2026-03-01T17:01:00Z' }],
        dots: [{ target: 'c1' }, { target: 'c1' }],
      }),
    );
    render(WorkshopPage, { id: 'w1' });
    expect(await screen.findByTestId('dot-budget')).toHaveTextContent('3 of 5 dots left');
    answers['dot.add'] = () => ({ dots: [{ target: 'c1' }, { target: 'c1' }, { target: 'c1' }], left: 2 });
    await fireEvent.click(screen.getByRole('button', { name: /Add a dot/ }));
    await waitFor(() => expect(screen.getByTestId('dot-budget')).toHaveTextContent('2 of 5 dots left'));
    // The per-card maximum (3) is reached: the button is off; the server's refusal is translated.
    expect(screen.getByRole('button', { name: /Add a dot/ })).toBeDisabled();
    answers['dot.remove'] = () => {
      throw { code: 'conflict', message: 'Not allowed in the plan phase.', fields: { phase: 'plan' } };
    };
    await fireEvent.click(screen.getByRole('button', { name: /Remove a dot/ }));
    expect(await screen.findByText('Not possible during this phase (Action plan).')).toBeInTheDocument();
  });

  it('offers facilitators "turn into a proposal" as themselves only where the forum takes personal proposals', async () => {
    for (const personalPosts of [false, true]) {
      const snap = snapshot({
        workshop: workshop({ phase: 'plan', facilitator: true }),
        facilitator: true,
        cards: [{ id: 'c1', text: 'Trees', colour: 'green', cluster: 'k1', createdAt: '2026-03-01T17:02:00Z' }],
        clusters: [{ id: 'k1', name: 'Green' }],
      });
      vi.stubGlobal(
        'fetch',
        vi.fn(async (url: string) => {
          if (url === '/api/v1/workshops/w1') return jsonResponse(200, snap);
          if (url === '/api/v1/forums/f1') return jsonResponse(200, { id: 'f1', title: { en: 'San Severo' }, categories: ['housing'], personalPosts });
          return jsonResponse(404, { error: { code: 'not_found' } });
        }),
      );
      const { unmount } = render(WorkshopPage, { id: 'w1' });
      const green = await screen.findByRole('region', { name: /Green/ });
      await waitFor(() => expect(within(green).queryAllByRole('button', { name: 'Turn into a proposal' })).toHaveLength(personalPosts ? 1 : 0));
      unmount();
    }
  });

  it('gives facilitators the phase control and applies the stored phase from the ack', async () => {
    stubFetch(snapshot({ workshop: workshop({ phase: 'lobby', facilitator: true, joinCode: '7KX4PQ2MZA' }), facilitator: true }));
    answers['workshop.phase'] = (f) => workshop({ phase: f.phase, version: 2, facilitator: true });
    render(WorkshopPage, { id: 'w1' });
    await fireEvent.click(await screen.findByRole('button', { name: 'Next: Ideas' }));
    await waitFor(() => expect(screen.getByRole('listitem', { current: 'step' })).toHaveTextContent('Ideas'));
    expect(sent.at(-1)).toEqual({ type: 'workshop.phase', fields: { workshop: 'w1', phase: 'brainstorm' } });
    // The join code stays for the facilitator although the ack's view has none.
    expect(screen.getByTestId('join-code')).toHaveTextContent('7KX-4PQ-2MZA');
  });
});
