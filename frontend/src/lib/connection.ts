// The app's one live connection (see live.ts).
import { LiveClient, liveURL } from './live';

export const live = new LiveClient({ url: () => liveURL(location) });

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
