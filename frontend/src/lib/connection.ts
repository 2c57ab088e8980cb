// The app's one live connection (see live.ts).
import { activeGuestToken } from './guest';
import { LiveClient, liveURL } from './live';

// A guest of a live session authenticates with the active guest pass (guest.ts) in the first
// message of every connection; signed-in people have none and are known by their cookie.
export const live = new LiveClient({ url: () => liveURL(location), token: activeGuestToken });

let started = false;

/** startLive connects and reconnects at once when the browser comes back online. */
export function startLive(): void {
  if (started) return;
  started = true;
  live.connect();
  window.addEventListener('online', () => {
    if (live.status === 'reconnecting') live.reconnect();
  });
}
