// End-to-end: a live session of a territorial forum, from scheduling to the minutes, with every
// page following the room live (no reloads). The administrator (a host: admins manage every
// municipality's forums) schedules a session on the forum page, opens the projector view from
// the host console and starts the session; a guest joins by code in a fresh browser and a
// signed-in participant through the join link; the agenda advances; a poll opens, both vote and
// the projector shows the results live; a guest's question is held for approval, approved,
// upvoted and marked answered; a hand is raised and given the floor; the participant view and
// the projector pass axe in Arabic at 360 px; the session ends and the minutes download.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, api, axe, createForum, fits, formatViolations, launchBrowser, newPage, shot, signInAdmin, startServer } from './harness.mjs';

const LIVE = 20_000; // how long an update may take to reach another page (a busy 2-core machine)

let server;
let browser;
let host; // the administrator's host console (desktop)
let projector; // the projector view, opened by the host from the console (a new window)
let guest; // Karim, a guest joining by code on his phone
let rita; // Rita, a signed-in participant on her phone
const others = []; // pages opened for one step (Arabic checks)
const stamp = Date.now().toString(36);
const title = `Turi live forum ${stamp}`;
const pollTitle = `Which topic first? ${stamp}`;
const question = `When do the works on the square start? ${stamp}`;
let forumId = '';
let sessionId = '';
let code = '';
let joinUrl = '';

async function step(t, pages, fn) {
  const list = (Array.isArray(pages) ? pages : [pages]).filter(Boolean);
  try {
    await fn();
    for (const p of list) assert.deepEqual(p.problems, [], 'no console errors or CSP violations');
  } catch (e) {
    for (const p of list) {
      const file = await shot(p, `live-${t.name}-${list.indexOf(p)}`);
      if (file) e.message += `\n(screenshot: ${file})`;
    }
    if (server) e.message += `\n--- server log (tail) ---\n${server.log().split('\n').slice(-25).join('\n')}`;
    throw e;
  } finally {
    for (const p of list) p.problems.length = 0;
  }
}

/** watch records console errors and CSP violations of a page the harness did not open (a popup). */
function watch(p) {
  p.problems = [];
  p.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) p.problems.push(`CSP: ${text}`);
    else if (msg.type() === 'error' && !/status of 40[0139]\b/.test(text)) p.problems.push(`console: ${text}`);
  });
  p.on('pageerror', (err) => p.problems.push(`page error: ${err.message}`));
  return p;
}

async function checkAxe(p, where) {
  const vs = await axe(p);
  assert.equal(vs.length, 0, `axe found serious/critical violations on ${where}:\n${formatViolations(vs)}`);
}

async function go(p, path) {
  await p.goto(server.base + path);
  await p.locator('main h1').first().waitFor();
}

/** A marker that a reload would lose: proves that what follows arrived live. */
async function mark(p) {
  await p.evaluate(() => (window.__sameDocument = true));
}
async function assertNotReloaded(...pages) {
  for (const p of pages) {
    assert.equal(await p.evaluate(() => window.__sameDocument === true), true, `${p.url()} was not reloaded`);
  }
}

/** The live connection is open: the header's indicator says so (the projector has no header,
 * and shows "Reconnecting…" until it is). */
async function connected(p) {
  if (p.url().endsWith('/projector')) {
    await p.getByTestId('projector').locator('h1').waitFor({ timeout: LIVE });
    await p.getByTestId('projector').locator('.offline').waitFor({ state: 'detached', timeout: LIVE });
  } else {
    await p.locator('[data-state="open"]').first().waitFor({ timeout: LIVE });
  }
}

/** seen waits until `text` shows up inside `within` (a locator) on another page, live. */
async function seen(within, text, opts = {}) {
  await within.getByText(text, opts).first().waitFor({ timeout: LIVE });
}

function pad(n) {
  return String(n).padStart(2, '0');
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const p of [host, projector, guest, rita, ...others]) await p?.context().close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

describe('A live session: host, projector, a guest and a participant, then the minutes', () => {
  it('the host schedules a session on the forum page and opens the projector view', async (t) => {
    host = await newPage(browser, { viewport: { width: 1280, height: 900 } });
    await step(t, host, async () => {
      await signInAdmin(host, server.base);
      ({ forumId } = await createForum(host, {
        municipality: `Comune di Turi ${stamp}`,
        territory: 'Turi',
        forum: { title: { it: `Forum di Turi ${stamp}` }, languages: ['it', 'en'] },
      }));

      // Schedule it with the form on the forum page: a title, a time, two agenda items; guests
      // may ask, and their questions are held for approval (the defaults).
      await go(host, `/forums/${encodeURIComponent(forumId)}`);
      await host.getByText('Schedule a live session').click();
      await host.getByLabel('Title (English)').fill(title);
      const when = new Date(Date.now() + 3_600_000);
      await host
        .getByLabel('Date and time')
        .fill(`${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`);
      await host.getByLabel('Place').fill('Sala consiliare');
      for (const [i, [name, min]] of [['Welcome', '5'], ['The square', '20']].entries()) {
        await host.getByRole('button', { name: 'Add an agenda item' }).click();
        await host.getByLabel(`Item ${i + 1}: title in English`).fill(name);
        await host.getByLabel(`Item ${i + 1}: planned minutes`).fill(min);
      }
      assert.equal(await host.getByLabel('Guests (people without an account) may ask questions').isChecked(), true);
      assert.equal(await host.getByLabel('Hold questions until a host approves them').isChecked(), true);
      await host.getByRole('button', { name: 'Schedule the session' }).click();

      // The host console.
      await host.waitForURL('**/sessions/*/host');
      sessionId = decodeURIComponent(new URL(host.url()).pathname.split('/')[2]);
      await host.locator('main h1', { hasText: title }).waitFor();
      await host.locator('[data-status="scheduled"]').waitFor();
      code = (await host.locator('[data-testid="join-code"]').innerText()).trim();
      assert.match(code, /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/, `a join code: ${code}`);
      joinUrl = (await host.getByText('/join?code=').innerText()).trim();
      assert.equal(joinUrl, `${server.base}/join?code=${code.replace(/-/g, '')}`);
      await connected(host);
      await mark(host);

      // The projector opens in a new window from the console.
      const [popup] = await Promise.all([
        host.context().waitForEvent('page'),
        host.getByRole('link', { name: 'Projector view (opens in a new window)' }).click(),
      ]);
      projector = watch(popup);
      await projector.waitForURL(`**/sessions/${sessionId}/projector`);
    });
    await step(t, [host, projector], async () => {
      const pj = projector.getByTestId('projector');
      await pj.locator('h1', { hasText: title }).waitFor({ timeout: LIVE });
      assert.equal((await projector.getByTestId('join-code').innerText()).replace(/\s+/g, '-'), code);
      await projector.getByRole('img', { name: 'QR code that opens the join page with the code' }).waitFor();
      await pj.getByText('The session starts soon.').waitFor();
      await connected(projector);
      await mark(projector);
    });
  });

  it('the host starts the session; the projector follows live', async (t) => {
    await step(t, [host, projector], async () => {
      await host.getByRole('button', { name: 'Start the session' }).click();
      const dialog = host.getByRole('dialog');
      await dialog.getByText('Start the session now?').waitFor();
      await dialog.getByRole('button', { name: 'Start the session' }).click();
      await host.locator('[data-status="live"]').waitFor({ timeout: LIVE });
      await host.getByRole('button', { name: 'End the session' }).waitFor();

      const pj = projector.getByTestId('projector');
      await seen(pj, 'Item 1 of 2');
      await seen(pj, 'Welcome', { exact: true });
      await pj.getByTestId('countdown').waitFor();
      assert.equal(await pj.getByText('The session starts soon.').count(), 0);
      await assertNotReloaded(host, projector);
    });
  });

  it('a guest joins by code in a fresh browser and a signed-in participant through the join link', async (t) => {
    guest = await newPage(browser);
    await step(t, [guest, host], async () => {
      await go(guest, '/join');
      // As read off the projector: lower case, spaces instead of dashes.
      await guest.getByLabel('Code', { exact: true }).fill(code.toLowerCase().replace(/-/g, ' '));
      await guest.getByLabel('Your name').fill('Karim');
      await guest.getByRole('button', { name: 'Join' }).click();
      await guest.waitForURL(`**/sessions/${sessionId}`);
      assert.doesNotMatch(guest.url(), /token/i, 'the guest token is never put in a URL');
      await guest.locator('main h1', { hasText: title }).waitFor();
      await guest.locator('[data-status="live"]').waitFor();
      await guest.getByText('Item 1 of 2').waitFor();
      await connected(guest);
      await mark(guest);
      // The host sees him among the participants, marked as a guest.
      const row = host.getByTestId('participants').locator('li', { hasText: 'Karim' });
      await row.waitFor({ timeout: LIVE });
      await row.getByText('Guest', { exact: true }).waitFor();
    });

    rita = await newPage(browser);
    await step(t, [rita, host, projector], async () => {
      await go(rita, '/');
      const r = await api(rita, 'POST', '/auth/register', {
        email: `rita.${stamp}@example.org`,
        password: 'a long password 42',
        displayName: 'Rita',
        language: 'en',
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      // The link the QR code opens: the code is filled in; she joins as herself.
      await rita.goto(joinUrl);
      await rita.locator('main h1', { hasText: 'Join a live session or workshop' }).waitFor();
      await rita.getByText('You will join as Rita.').waitFor();
      assert.equal(await rita.getByLabel('Code', { exact: true }).inputValue(), code.replace(/-/g, ''));
      await rita.getByRole('button', { name: 'Join' }).click();
      await rita.waitForURL(`**/sessions/${sessionId}`);
      await rita.locator('main h1', { hasText: title }).waitFor();
      await rita.getByText('Item 1 of 2').waitFor();
      await connected(rita);
      await mark(rita);

      const people = host.getByTestId('participants');
      const row = people.locator('li', { hasText: 'Rita' });
      await row.waitFor({ timeout: LIVE });
      await row.getByRole('button', { name: 'Make Rita a co-host' }).waitFor();
      // Presence, guests and accounts apart, on the host console and the participants' pages.
      await seen(host.getByTestId('presence'), /guests: 1, with an account: [1-9]/);
      await seen(guest.getByTestId('presence'), /guests: 1, with an account: [1-9]/);
      await assertNotReloaded(host, projector);
    });
  });

  it('the host moves to the next agenda item; every page follows', async (t) => {
    await step(t, [host, guest, rita, projector], async () => {
      await host.getByRole('button', { name: 'Next item' }).click();
      await host.getByRole('status').filter({ hasText: 'Moved to the next item.' }).waitFor({ timeout: LIVE });
      for (const p of [guest, rita]) {
        await seen(p.getByRole('region', { name: 'Now' }), 'Item 2 of 2');
        await seen(p.getByRole('region', { name: 'Now' }), 'The square', { exact: true });
        await p.locator('.agenda li[aria-current="step"]', { hasText: 'The square' }).waitFor({ timeout: LIVE });
      }
      const pj = projector.getByTestId('projector');
      await seen(pj, 'Item 2 of 2');
      await seen(pj, 'The square', { exact: true });
      await assertNotReloaded(host, guest, rita, projector);
    });
  });

  it('a poll opens, the guest and the participant vote, the projector shows the results live', async (t) => {
    await step(t, [host, guest, rita, projector], async () => {
      const polls = host.getByRole('region', { name: 'Polls' });
      await polls.getByText('Prepare a poll').click();
      await polls.getByLabel('Question', { exact: true }).fill(pollTitle);
      await polls.getByLabel('Answers, one per line').fill('Homes\nThe square\nSchools');
      await polls.getByLabel('Live, while people vote').check();
      await polls.getByRole('button', { name: 'Prepare the poll' }).click();
      const draft = polls.locator('.draft', { hasText: pollTitle });
      await draft.waitFor({ timeout: LIVE });
      // Nobody else sees a draft.
      assert.equal(await guest.getByText(pollTitle).count(), 0);
      await draft.getByRole('button', { name: 'Open', exact: true }).click();
      await polls.getByRole('button', { name: 'Close the poll' }).waitFor({ timeout: LIVE });

      // Both participants get the ballot live.
      const ballot = (p) => p.getByRole('article', { name: pollTitle });
      for (const p of [guest, rita]) await ballot(p).getByText('Choose one answer.').waitFor({ timeout: LIVE });
      const pj = projector.getByTestId('projector');
      await pj.getByRole('heading', { name: pollTitle }).waitFor({ timeout: LIVE });

      await ballot(guest).getByLabel('The square').check();
      await ballot(guest).getByRole('button', { name: 'Vote', exact: true }).click();
      await ballot(guest).getByText('Your vote is counted.', { exact: false }).waitFor({ timeout: LIVE });
      await ballot(guest).getByRole('button', { name: 'Change my vote' }).waitFor();
      await seen(pj, /^Votes: 1\b/);

      await ballot(rita).getByLabel('Homes').check();
      await ballot(rita).getByRole('button', { name: 'Vote', exact: true }).click();
      await ballot(rita).getByText('Your vote is counted.', { exact: false }).waitFor({ timeout: LIVE });
      await seen(pj, /^Votes: 2\b/);
      await pj.locator('.bars li', { hasText: 'Homes' }).getByText('1 · 50%').waitFor({ timeout: LIVE });
      await pj.locator('.bars li', { hasText: 'The square' }).getByText('1 · 50%').waitFor({ timeout: LIVE });
      await pj.locator('.bars li', { hasText: 'Schools' }).getByText('0 · 0%').waitFor();
      // The guest sees the others' vote arrive in the results under his ballot, and the host too.
      await ballot(guest).getByText(/^Votes: 2\b/).waitFor({ timeout: LIVE });
      await ballot(guest).getByText('guests: 1, with an account: 1').waitFor();
      await polls.getByText(/^Votes: 2\b/).waitFor({ timeout: LIVE });

      // The host closes it: the final results stay in view everywhere.
      await polls.getByRole('button', { name: 'Close the poll' }).click();
      for (const p of [guest, rita]) {
        const pollsOf = p.getByRole('region', { name: 'Polls' });
        await pollsOf.getByText('No poll is open right now.').waitFor({ timeout: LIVE });
        const closed = pollsOf.getByRole('article', { name: pollTitle });
        await closed.getByText('Closed', { exact: true }).waitFor({ timeout: LIVE });
        await closed.getByText(/^Votes: 2\b/).waitFor();
        assert.equal(await closed.getByRole('button', { name: /Vote|Change my vote/ }).count(), 0);
      }
      await seen(pj, /^Votes: 2\b/);
      await assertNotReloaded(host, guest, rita, projector);
    });
  });

  it('a question is asked, approved, upvoted and marked answered', async (t) => {
    await step(t, [host, guest, rita, projector], async () => {
      const qOf = (p) => p.getByRole('region', { name: 'Questions' });
      await qOf(guest).getByText('Questions are shown to everyone after a host approves them.').waitFor();
      await qOf(guest).getByLabel('Your question').fill(question);
      await qOf(guest).getByRole('button', { name: 'Send the question' }).click();
      const mine = guest.getByTestId('questions').locator('li', { hasText: question });
      await mine.waitFor({ timeout: LIVE });
      await mine.getByText('Waiting for approval').waitFor();
      await mine.getByText('Yours', { exact: true }).waitFor();

      // Held for approval: the host sees it, nobody else does yet.
      const pending = host.getByTestId('pending').locator('li', { hasText: question });
      await pending.waitFor({ timeout: LIVE });
      await pending.getByText('Karim').waitFor();
      assert.equal(await rita.getByText(question).count(), 0, 'a pending question is not shown to others');
      assert.equal(await projector.getByText(question).count(), 0, 'nor on the projector');
      await pending.getByRole('button', { name: 'Approve' }).click();

      const theirs = rita.getByTestId('questions').locator('li[data-status="approved"]', { hasText: question });
      await theirs.waitFor({ timeout: LIVE });
      await theirs.getByText('Karim').waitFor();
      const pjq = projector.getByTestId('questions').locator('li', { hasText: question });
      await pjq.waitFor({ timeout: LIVE });
      await pjq.getByText('▲ 0').waitFor();
      await guest.getByTestId('questions').locator('li[data-status="approved"]', { hasText: question }).waitFor({ timeout: LIVE });
      // The author cannot upvote their own question.
      assert.equal(await mine.getByRole('button', { name: 'Support this question (votes: 0)' }).isDisabled(), true);

      // Rita upvotes it once.
      const up = theirs.getByRole('button', { name: /^Support this question/ });
      await up.click();
      await theirs.getByRole('button', { name: 'Support this question (votes: 1)', pressed: true }).waitFor({ timeout: LIVE });
      assert.equal(await up.isDisabled(), true, 'one upvote per person');
      await pjq.getByText('▲ 1').waitFor({ timeout: LIVE });
      await mine.getByRole('button', { name: 'Support this question (votes: 1)' }).waitFor({ timeout: LIVE });
      const approved = host.getByTestId('approved').locator('li', { hasText: question });
      await approved.getByText('▲ 1').waitFor({ timeout: LIVE });

      // The host marks it answered: it leaves the projector, and shows as answered to everyone.
      await approved.getByRole('button', { name: 'Mark answered' }).click();
      for (const p of [guest, rita]) {
        const q = p.getByTestId('questions').locator('li[data-status="answered"]', { hasText: question });
        await q.waitFor({ timeout: LIVE });
        await q.getByText('Answered', { exact: true }).waitFor();
      }
      await pjq.waitFor({ state: 'detached', timeout: LIVE });
      await host.getByText('Answered questions (1)').waitFor({ timeout: LIVE });
      await assertNotReloaded(host, guest, rita, projector);
    });
  });

  it('a hand is raised and given the floor', async (t) => {
    await step(t, [host, guest, rita, projector], async () => {
      await rita.getByRole('button', { name: 'Raise my hand' }).click();
      await rita.getByTestId('queue-place').getByText('You are number 1 in the queue (1 waiting).').waitFor({ timeout: LIVE });
      await rita.getByRole('button', { name: 'Lower my hand', pressed: true }).waitFor();
      await guest.getByTestId('queue-place').getByText('Raised hands: 1').waitFor({ timeout: LIVE });
      const queue = host.getByTestId('queue');
      await queue.locator('li', { hasText: 'Rita' }).waitFor({ timeout: LIVE });

      // G: the floor to the first raised hand.
      await host.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
      await host.keyboard.press('g');
      await rita.getByTestId('floor').getByText('You have the floor').waitFor({ timeout: LIVE });
      await guest.getByTestId('floor').getByText('Rita has the floor').waitFor({ timeout: LIVE });
      await projector.getByTestId('floor').getByText('Rita has the floor').waitFor({ timeout: LIVE });
      await host.getByRole('region', { name: 'Speaking queue' }).getByText('Rita has the floor').waitFor({ timeout: LIVE });
      await queue.waitFor({ state: 'detached', timeout: LIVE });
      await rita.getByTestId('queue-place').getByText('You are number').waitFor({ state: 'detached', timeout: LIVE });
      await rita.getByRole('button', { name: 'Raise my hand' }).waitFor();

      // The turn ends.
      await host.getByRole('button', { name: 'End the turn' }).click();
      for (const p of [guest, rita]) await p.getByTestId('floor').getByText('Nobody has the floor.').waitFor({ timeout: LIVE });
      await projector.getByTestId('floor').waitFor({ state: 'detached', timeout: LIVE });
      await assertNotReloaded(host, guest, rita, projector);
    });
  });

  it('the participant view and the projector pass axe in Arabic at 360 px', async (t) => {
    // An Arabic-speaking guest joins on a 360 px phone.
    const layla = await newPage(browser, { locale: 'ar' });
    others.push(layla);
    await step(t, layla, async () => {
      await layla.goto(joinUrl);
      await layla.waitForSelector('html[dir="rtl"][lang="ar"]');
      await layla.locator('#join-name').fill('ليلى');
      await layla.locator('#join-submit').click();
      await layla.waitForURL(`**/sessions/${sessionId}`);
      await layla.locator('main h1', { hasText: title }).waitFor();
      await connected(layla);
      await layla.getByRole('article', { name: pollTitle }).waitFor();
      await layla.getByTestId('questions').locator('li[data-status="answered"]', { hasText: question }).waitFor();
      await fits(layla, 'the participant view in Arabic');
      await checkAxe(layla, 'the participant view in Arabic');
    });

    // The projector in Arabic, as a host sees it (with the code and the QR code): the
    // administrator, in another browser, reads Insieme in Arabic for this step.
    const arHost = await newPage(browser, { locale: 'ar' });
    others.push(arHost);
    await step(t, arHost, async () => {
      await arHost.goto(server.base + '/');
      const r = await api(arHost, 'POST', '/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const me = await api(arHost, 'PATCH', '/me', { language: 'ar' });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      try {
        await arHost.goto(`${server.base}/sessions/${encodeURIComponent(sessionId)}/projector`);
        await arHost.waitForSelector('html[dir="rtl"][lang="ar"]');
        const pj = arHost.getByTestId('projector');
        await pj.locator('h1', { hasText: title }).waitFor();
        await pj.getByTestId('join-code').waitFor();
        await pj.locator('svg.qr').waitFor();
        await pj.getByRole('heading', { name: pollTitle }).waitFor();
        await connected(arHost);
        await fits(arHost, 'the projector in Arabic');
        await checkAxe(arHost, 'the projector in Arabic');
      } finally {
        const back = await api(arHost, 'PATCH', '/me', { language: 'en' });
        assert.equal(back.status, 200, JSON.stringify(back.body));
      }
    });
  });

  it('the host ends the session; every page shows it; the minutes download', async (t) => {
    await step(t, [host, guest, rita, projector], async () => {
      await host.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
      await host.keyboard.press('s'); // S asks first
      const dialog = host.getByRole('dialog');
      await dialog.getByText('End the session now?').waitFor();
      await dialog.getByRole('button', { name: 'End the session' }).click();
      // Acknowledged once the minutes are written.
      await host.getByRole('status').filter({ hasText: 'The session has ended.' }).waitFor({ timeout: LIVE });
      await host.locator('[data-status="ended"]').waitFor({ timeout: LIVE });
      await host.getByText('The session has ended: its code no longer works.').waitFor({ timeout: LIVE });

      for (const p of [guest, rita]) {
        await p.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout: LIVE });
        await p.locator('[data-status="ended"]').waitFor({ timeout: LIVE });
        assert.equal(await p.getByRole('button', { name: 'Raise my hand' }).count(), 0);
      }
      const pj = projector.getByTestId('projector');
      await pj.getByRole('heading', { name: 'The session has ended' }).waitFor({ timeout: LIVE });
      await pj.getByText('Thank you for taking part.').waitFor();
      assert.equal(await projector.getByTestId('join-code').count(), 0, 'the code is gone from the projector');
      await assertNotReloaded(host, guest, rita, projector);

      // The code no longer works (asked from outside the browser: a 404 there is a console error).
      const again = await fetch(`${server.base}/api/v1/join`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Origin: server.base },
        body: JSON.stringify({ code: code.replace(/-/g, ''), name: 'Late' }),
      });
      const againBody = await again.text();
      assert.ok(again.status === 404 || again.status === 409, `joining an ended session: ${again.status} ${againBody}`);

      // Rita downloads the minutes from her page.
      const link = rita.getByRole('link', { name: 'Download the minutes (Markdown)' });
      await link.waitFor({ timeout: LIVE });
      const [download] = await Promise.all([rita.waitForEvent('download'), link.click()]);
      assert.equal(download.suggestedFilename(), `minutes-${sessionId}.md`);
      const md = await readFile(await download.path(), 'utf8');

      // The same text from the API.
      const res = await api(host, 'GET', `/sessions/${encodeURIComponent(sessionId)}/minutes.md?lang=en`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body, md);

      assert.match(md, new RegExp(`^# Minutes: ${title}\n`));
      assert.match(md, /- Place: Sala consiliare\n/);
      assert.match(md, /## Attendance\n\n- Most at once: \d+\n- Participants: \d+ \(2 guests, \d+ with an account\)\n/);
      assert.match(md, /1\. Welcome — planned 5 min, actual \d+\.\d min\n2\. The square — planned 20 min, actual \d+\.\d min\n/);
      // The poll's final result.
      assert.ok(md.includes(`### ${pollTitle}\n\n2 voters (1 guests, 1 with an account)\n\n- Homes: 1\n- The square: 1\n- Schools: 0\n`), md);
      // The answered question, by its (guest) author, with its upvote.
      assert.ok(md.includes(`## Answered questions\n\n- ${question} (Karim · 1 votes)\n`), md);
      // The speaker.
      assert.match(md, /## Speakers\n\n1\. Rita — \d+:\d\d\n/);
    });
  });
});
