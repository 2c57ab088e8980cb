import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { startLive } from './lib/connection';
import { deactivateGuest } from './lib/guest';
import { loadCatalogue, setLanguage } from './lib/i18n/index.svelte';
import { pickLanguage } from './lib/i18n/languages';
import { startRouter } from './lib/router.svelte';
import { loadSession } from './lib/session.svelte';

async function start(): Promise<void> {
  startRouter();
  // Ask who is signed in and fetch the likely catalogue at the same time.
  const [user] = await Promise.all([loadSession(), loadCatalogue(pickLanguage()).catch(() => null)]);
  await setLanguage(pickLanguage(user?.language));
  if (user) deactivateGuest(); // a signed-in person takes part as themselves, never as a guest
  startLive();
  mount(App, { target: document.getElementById('app')! });
}

start().catch((e) => {
  console.error(e);
  const el = document.getElementById('app');
  if (el) el.textContent = 'Insieme could not start. Please reload the page.';
});
