// The signed-in person's notifications: the unread count in the header and the list of the
// notifications page, kept current by the private `participant:<accountId>` room (`notification`
// carries the new unread count, `notification.read` says everything was read). A (re)subscription
// refetches, so nothing missed while offline is lost.
import { api } from './api';
import { live } from './connection';
import type { Notifications, ParticipantEvent } from './types';

export const inbox = $state<{ unread: number; data: Notifications | null; loading: boolean }>({
  unread: 0,
  data: null,
  loading: false,
});

let account: string | null = null;
let leave: (() => void) | undefined;
let seq = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

/** refreshInbox reads the list and the unread count again (older answers are dropped). */
export async function refreshInbox(): Promise<void> {
  if (!account) return;
  const n = ++seq;
  inbox.loading = true;
  try {
    const data = await api.get<Notifications>('/me/notifications');
    if (n !== seq) return;
    inbox.data = data;
    inbox.unread = data.unread;
  } catch {
    /* the count stays as it was */
  } finally {
    if (n === seq) inbox.loading = false;
  }
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(refreshInbox, 100);
}

/** followInbox joins the person's private room (null: signed out, leave it). */
export function followInbox(accountId: string | null): void {
  if (accountId === account) return;
  leave?.();
  leave = undefined;
  clearTimeout(timer);
  account = accountId;
  inbox.unread = 0;
  inbox.data = null;
  if (!accountId) return;
  let snapshotSeen = false;
  leave = live.subscribe(`participant:${accountId}`, {
    snapshot() {
      snapshotSeen = true;
      soon();
    },
    event(data) {
      const ev = data as ParticipantEvent;
      if (!ev || typeof ev !== 'object') return;
      if (ev.type === 'notification') {
        if (typeof ev.unread === 'number') inbox.unread = ev.unread;
        soon(); // the event lacks the list's fields (id, title, date): read the list again
      } else if (ev.type === 'notification.read') {
        inbox.unread = 0;
        if (inbox.data) inbox.data = { unread: 0, items: inbox.data.items.map((i) => ({ ...i, unread: false })) };
      }
    },
    error() {
      if (!snapshotSeen) soon();
    },
  });
  if (live.status !== 'open') soon();
}

/** markAllRead: POST /me/notifications/read; the room's `notification.read` follows. */
export async function markAllRead(): Promise<void> {
  await api.post('/me/notifications/read');
  inbox.unread = 0;
  if (inbox.data) inbox.data = { unread: 0, items: inbox.data.items.map((i) => ({ ...i, unread: false })) };
}
