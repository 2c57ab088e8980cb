// End-to-end: a co-design workshop from the brief to a proposal (issue 5). The administrator (a
// facilitator: admins may run any forum's workshops) creates a workshop on the forum page; Rita
// (signed in, desktop) opens it from the forum's list, Marco (signed in, a 360 px phone) types
// the code, Karim (a guest, no account) joins by code. The facilitator moves every phase: lobby →
// ideas (cards stay private: not in the others' pages, not in any websocket frame they receive)
// → reveal (every card shows) → grouping (clusters made, cards dragged or moved into them) → dot
// vote (the budget and the per-card maximum hold, in the page and on the server) → action plan
// (results ranked, an action written, its owner sets the status; a cluster becomes a proposal
// for Rita's association) → closed. The Markdown output holds the brief, the clusters with their
// cards, the ranked results and the action; the proposal is in the forum's list and says where
// it came from.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, axe, createForum, fits, formatViolations, launchBrowser, newPage, register, shot, signInAdmin, startServer } from './harness.mjs';

const LIVE = 20_000; // how long an update may take to reach another page (a busy 2-core machine)

let server;
let browser;
let fac; // the facilitator (the administrator), desktop: the canvas
let rita; // signed in, desktop: the list view
let marco; // signed in, a 360 px phone
let karim; // a guest, desktop: the canvas
const stamp = Date.now().toString(36);
const title = `Piazza Garibaldi workshop ${stamp}`;
const brief = `How do we make the square a place to stay ${stamp}?`;
const assoc = `Associazione Verde ${stamp}`;
const cards = {
  trees: `Shade trees on the square ${stamp}`, // Rita
  fountain: `A drinking fountain by the benches ${stamp}`, // Rita
  school: `A safe crossing at the school gate ${stamp}`, // Marco
  library: `Longer library hours in summer ${stamp}`, // Karim
};
const authorOf = { trees: 'rita', fountain: 'rita', school: 'marco', library: 'karim' };
const green = `Green spaces ${stamp}`; // made by the facilitator
const schoolCluster = `Near the school ${stamp}`; // made by Marco on his phone
const action = `Plant ten trees on the north side ${stamp}`;
const resources = `Volunteers and 2,000 euros ${stamp}`;
let forumId = '';
let workshopId = '';
let code = '';
let proposalTitle = '';

const pages = () => ({ fac, rita, marco, karim });

let broken = false; // a step failed: the later ones depend on it, so they are skipped

async function step(t, list, fn) {
  if (broken) {
    t.skip('an earlier step failed');
    return;
  }
  list = list.filter(Boolean);
  try {
    await fn();
    for (const p of list) assert.deepEqual(p.problems, [], 'no console errors or CSP violations');
  } catch (e) {
    broken = true;
    for (const p of list) {
      const file = await shot(p, `workshops-${t.name}-${list.indexOf(p)}`);
      if (file) e.message += `\n(screenshot: ${file})`;
    }
    if (server) e.message += `\n--- server log (tail) ---\n${server.log().split('\n').slice(-25).join('\n')}`;
    throw e;
  } finally {
    for (const p of list) p.problems.length = 0;
  }
}

/** A page that records the text of every websocket frame it receives (`p.wsFrames`). */
async function open(viewport) {
  const p = await newPage(browser, { viewport });
  p.wsFrames = [];
  p.on('websocket', (ws) => {
    ws.on('framereceived', (f) => p.wsFrames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')));
  });
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

async function connected(p) {
  await p.locator('[data-state="open"]').first().waitFor({ timeout: LIVE });
}

/** The phase the stepper marks as current, on a page, live. */
async function phaseIs(p, label) {
  await p
    .getByRole('navigation', { name: 'Phases' })
    .locator('[aria-current="step"]')
    .filter({ hasText: new RegExp(`^\\s*\\d\\s*${label}\\s*$`) })
    .waitFor({ timeout: LIVE });
}

/** The facilitator moves to the next phase; every page follows. */
async function nextPhase(label) {
  await fac.getByRole('button', { name: `Next: ${label}` }).click();
  for (const p of Object.values(pages())) await phaseIs(p, label);
}

/** GET /api/v1/workshops/{id} as the page's person: its cookie, or the guest's token as the app sends it. */
async function readWorkshop(p) {
  return p.evaluate(async (id) => {
    const pass = JSON.parse(localStorage.getItem('insieme.guests') ?? '{}')[`workshop:${id}`];
    const headers = { Accept: 'application/json', ...(pass?.token ? { Authorization: `Bearer ${pass.token}` } : {}) };
    const r = await fetch(`/api/v1/workshops/${encodeURIComponent(id)}`, { headers });
    return { status: r.status, text: await r.text() };
  }, workshopId);
}

/** A card as the list view shows it (an article named by its text). */
const cardIn = (p, text) => p.getByRole('article', { name: text });
/** A cluster's section in the list view (labelled by its heading). */
const clusterIn = (p, name) => p.getByTestId('board-list').getByRole('region', { name: new RegExp(`^${name}`) });
/** A card on the canvas (a button named by its text and colour). */
const onCanvas = (p, text) => p.getByTestId('board-canvas').getByRole('button', { name: new RegExp(`^${text} \\(`) });

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const p of Object.values(pages())) await p?.context().close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

describe('A co-design workshop: a facilitator and three participants, from the brief to a proposal', () => {
  it('the facilitator creates a workshop on the forum page', async (t) => {
    fac = await open({ width: 1280, height: 900 });
    fac.on('dialog', (d) => d.accept()); // "Close the workshop?"
    await step(t, [fac], async () => {
      await signInAdmin(fac, server.base);
      ({ forumId } = await createForum(fac, {
        municipality: `Comune di Molfetta ${stamp}`,
        territory: 'Molfetta',
        forum: { title: { it: `Forum di Molfetta ${stamp}`, en: `Molfetta forum ${stamp}` }, languages: ['it', 'en'] },
      }));
      await go(fac, `/forums/${encodeURIComponent(forumId)}`);
      const section = fac.getByRole('region', { name: 'Co-design workshops' });
      await section.getByText('No workshops in this forum yet.').waitFor();
      await section.getByText('New workshop').click();
      await section.getByLabel('Title').fill(title);
      await section.getByLabel('Brief in English').fill(brief);
      const when = new Date(Date.now() + 3_600_000);
      const pad = (n) => String(n).padStart(2, '0');
      await section
        .getByLabel('Date and time')
        .fill(`${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`);
      await section.getByLabel('Dots per person').fill('3');
      await section.getByLabel('Maximum dots on one card').fill('2');
      await section.getByRole('button', { name: 'Create the workshop' }).click();

      await fac.waitForURL('**/workshops/*');
      workshopId = decodeURIComponent(new URL(fac.url()).pathname.split('/')[2]);
      await fac.locator('main h1', { hasText: title }).waitFor();
      assert.equal((await fac.getByTestId('brief').innerText()).trim(), brief);
      await phaseIs(fac, 'Waiting room');
      await fac.getByText('Join code and QR code').click();
      code = (await fac.getByTestId('join-code').innerText()).trim();
      assert.match(code, /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/, `a join code: ${code}`);
      await fac.getByRole('img', { name: 'QR code that opens the join page with the code' }).waitFor();
      await connected(fac);
    });
  });

  it('Rita opens it from the forum, Marco types the code on his phone, Karim joins as a guest', async (t) => {
    rita = await open({ width: 1280, height: 900 });
    marco = await open({ width: 360, height: 740 });
    karim = await open({ width: 1280, height: 900 });
    await step(t, [rita, marco, karim, fac], async () => {
      await register(rita, server.base, { email: `rita.${stamp}@example.org`, displayName: 'Rita' });
      const o = await api(rita, 'POST', '/organisations', { kind: 'association', name: assoc, description: '', territory: 'Molfetta' });
      assert.equal(o.status, 201, JSON.stringify(o.body));
      await go(rita, `/forums/${encodeURIComponent(forumId)}`);
      const listed = rita.getByRole('region', { name: 'Co-design workshops' }).getByRole('listitem').filter({ hasText: title });
      await listed.getByText('Waiting room').waitFor();
      await listed.getByRole('link', { name: `Take part · ${title}` }).click();
      await rita.waitForURL(`**/workshops/${workshopId}`);
      await rita.locator('main h1', { hasText: title }).waitFor();
      await rita.getByText('Waiting for the facilitator to start.').waitFor();
      await connected(rita);

      await register(marco, server.base, { email: `marco.${stamp}@example.org`, displayName: 'Marco' });
      await go(marco, '/join');
      await marco.getByLabel('Code', { exact: true }).fill(code.toLowerCase().replace(/-/g, ' '));
      await marco.getByText('You will join as Marco.').waitFor();
      await marco.getByRole('button', { name: 'Join' }).click();
      await marco.waitForURL(`**/workshops/${workshopId}`);
      await marco.locator('main h1', { hasText: title }).waitFor();
      await connected(marco);
      await fits(marco, 'the workshop in the lobby at 360 px');

      await go(karim, '/join');
      await karim.getByLabel('Code', { exact: true }).fill(code);
      await karim.getByLabel('Your name').fill('Karim');
      await karim.getByRole('button', { name: 'Join' }).click();
      await karim.waitForURL(`**/workshops/${workshopId}`);
      assert.doesNotMatch(karim.url(), /token/i, 'the guest token is never put in a URL');
      await karim.locator('main h1', { hasText: title }).waitFor();
      await karim.getByText('Waiting for the facilitator to start.').waitFor();
      await connected(karim);

      // Everybody is in: the facilitator and three participants.
      for (const p of [fac, rita, marco, karim]) await p.getByTestId('presence').getByText('Taking part: 4').waitFor({ timeout: LIVE });
      // Only the facilitator runs the workshop.
      for (const p of [rita, marco, karim]) assert.equal(await p.getByRole('button', { name: /^Next:/ }).count(), 0);
    });
  });

  it('ideas: everyone writes cards privately; the others see only how many', async (t) => {
    await step(t, [fac, rita, marco, karim], async () => {
      await nextPhase('Ideas');
      // A timer with a visible countdown, on the phone too.
      await fac.getByLabel('Timer (minutes)').fill('5');
      await fac.getByRole('button', { name: 'Start the timer' }).click();
      await marco.getByTestId('timer').getByText(/^[45]:\d\d$/).waitFor({ timeout: LIVE });

      const write = async (p, text, colour) => {
        await p.getByRole('textbox', { name: 'Your idea' }).fill(text);
        await p.getByLabel(colour, { exact: true }).check();
        await p.getByRole('button', { name: 'Add the card' }).click();
        await p.getByTestId('my-cards').getByRole('article', { name: text }).waitFor({ timeout: LIVE });
        assert.equal(await p.getByRole('textbox', { name: 'Your idea' }).inputValue(), '');
      };
      await write(rita, cards.trees, 'Green');
      await write(rita, cards.fountain, 'Blue');
      await write(marco, cards.school, 'Orange');
      await write(karim, cards.library, 'Purple');
      await fits(marco, 'the brainstorm at 360 px');
      await checkAxe(marco, 'the brainstorm at 360 px');

      // Every page counts four cards (so every count event has arrived), each its own.
      const mine = { fac: 0, rita: 2, marco: 1, karim: 1 };
      for (const [who, p] of Object.entries(pages())) {
        await p.getByTestId('card-count').getByText(`Cards written: 4 · yours: ${mine[who]}`).waitFor({ timeout: LIVE });
      }

      // Nobody learns another's card text: not in the page, not in a websocket frame, not
      // through the API. Each page did receive its own cards over the websocket (so the frames
      // are being recorded).
      for (const [who, p] of Object.entries(pages())) {
        const html = await p.content();
        const frames = p.wsFrames.join('\n');
        assert.ok(p.wsFrames.length > 0, `${who} received websocket frames`);
        const view = await readWorkshop(p);
        assert.equal(view.status, 200, `${who} reads the workshop: ${view.text}`);
        const viewText = view.text;
        for (const [card, text] of Object.entries(cards)) {
          if (authorOf[card] === who) {
            assert.ok(frames.includes(JSON.stringify(text).slice(1, -1)), `${who} got their own card "${card}" over the websocket`);
            assert.ok(html.includes(text), `${who} sees their own card "${card}"`);
            continue;
          }
          assert.ok(!html.includes(text), `${who}'s page shows ${authorOf[card]}'s card "${card}" during the brainstorm`);
          assert.ok(!frames.includes(text), `${who} received ${authorOf[card]}'s card "${card}" in a websocket frame during the brainstorm`);
          assert.ok(!viewText.includes(text), `${who} read ${authorOf[card]}'s card "${card}" from the API during the brainstorm`);
        }
      }
    });
  });

  it('reveal: every card shows on every page', async (t) => {
    await step(t, [fac, rita, marco, karim], async () => {
      await nextPhase('Reveal');
      // The timer stops with the phase.
      await marco.getByTestId('timer').waitFor({ state: 'detached', timeout: LIVE });
      for (const text of Object.values(cards)) {
        for (const p of [fac, karim]) await onCanvas(p, text).waitFor({ timeout: LIVE });
        await cardIn(marco, text).waitFor({ timeout: LIVE }); // the phone: a list
      }
      // Rita prefers the list on her desktop.
      await rita.getByRole('group', { name: 'Show the board as' }).getByLabel('List').check();
      for (const text of Object.values(cards)) await cardIn(rita, text).waitFor({ timeout: LIVE });
      // The authors' names (not an anonymous workshop), and the texts now reached the others.
      await cardIn(marco, cards.library).getByText('Karim').waitFor();
      for (const [who, p] of Object.entries(pages())) {
        for (const [card, text] of Object.entries(cards)) {
          if (authorOf[card] !== who) assert.ok(p.wsFrames.some((f) => f.includes(text)), `${who} received "${card}" at the reveal`);
        }
      }
      await fits(marco, 'the revealed board at 360 px');
    });
  });

  it('grouping: clusters are made and cards moved into them, by drag and by the list', async (t) => {
    await step(t, [fac, rita, marco, karim], async () => {
      await nextPhase('Grouping');
      // The facilitator makes a cluster; Marco makes another on his phone.
      await fac.getByLabel('New cluster').fill(green);
      await fac.getByRole('button', { name: 'Create the cluster' }).click();
      await marco.getByLabel('New cluster').fill(schoolCluster);
      await marco.getByRole('button', { name: 'Create the cluster' }).click();
      for (const p of [fac, karim]) {
        for (const name of [green, schoolCluster]) {
          await p.getByTestId('board-canvas').getByRole('button', { name, exact: true }).waitFor({ timeout: LIVE });
        }
      }
      for (const p of [rita, marco]) for (const name of [green, schoolCluster]) await clusterIn(p, name).waitFor({ timeout: LIVE });

      // The facilitator drags the trees card into the green cluster's area on the canvas.
      const area = fac.getByTestId('board-canvas').getByRole('button', { name: green, exact: true });
      // The canvas's scroller in view, from its top: the cluster's area above the cards.
      await fac.getByTestId('board-canvas').evaluate((el) => el.parentElement.scrollIntoView({ block: 'start' }));
      const from = await onCanvas(fac, cards.trees).boundingBox();
      const to = await area.boundingBox();
      assert.ok(from && to, 'the card and the cluster are on the canvas');
      await fac.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await fac.mouse.down();
      await fac.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 });
      await fac.mouse.up();
      await clusterIn(marco, green).getByRole('article', { name: cards.trees }).waitFor({ timeout: LIVE });

      // Marco moves his card with the list's "Move to cluster" on his phone.
      await cardIn(marco, cards.school).getByLabel('Move to cluster').selectOption({ label: schoolCluster });
      // Karim (a guest) selects the fountain card on the canvas and moves it from the panel.
      await onCanvas(karim, cards.fountain).click();
      const panel = karim.getByRole('complementary', { name: 'Selected card' });
      await panel.getByRole('article', { name: cards.fountain }).waitFor();
      await panel.getByLabel('Move to cluster').selectOption({ label: green });

      for (const p of [rita, marco]) {
        const g = clusterIn(p, green);
        for (const text of [cards.trees, cards.fountain]) await g.getByRole('article', { name: text }).waitFor({ timeout: LIVE });
        await g.getByRole('heading', { name: `${green} 2 cards` }).waitFor({ timeout: LIVE });
        await clusterIn(p, schoolCluster).getByRole('article', { name: cards.school }).waitFor({ timeout: LIVE });
        await clusterIn(p, 'Not in a cluster').getByRole('article', { name: cards.library }).waitFor({ timeout: LIVE });
      }
      await checkAxe(fac, "the facilitator's canvas");
      // The facilitator's panel shows the dragged card in its cluster.
      await onCanvas(fac, cards.trees).click();
      const facPanel = fac.getByRole('complementary', { name: 'Selected card' });
      await facPanel.getByRole('article', { name: cards.trees }).waitFor();
      assert.equal(await facPanel.getByLabel('Move to cluster').locator('option:checked').innerText(), green);
      await fits(marco, 'the clusters at 360 px');
    });
  });

  it('dot vote: dots are spent within the budget; one too many is refused', async (t) => {
    await step(t, [fac, rita, marco, karim], async () => {
      await nextPhase('Dot vote');
      const dot = (p, label) => p.getByRole('button', { name: `Add a dot · ${label}`, exact: true });
      const undot = (p, label) => p.getByRole('button', { name: `Remove a dot · ${label}`, exact: true });
      const budgetIs = (p, text) => p.getByTestId('dot-budget').getByText(text).waitFor({ timeout: LIVE });
      for (const p of [rita, marco, karim]) await budgetIs(p, '3 of 3 dots left');
      await rita.getByTestId('dot-budget').getByText('at most 2 on one card or cluster').waitFor();

      // Rita: two dots on the green cluster, its maximum.
      await dot(rita, green).click();
      await budgetIs(rita, '2 of 3 dots left');
      await dot(rita, green).click();
      await budgetIs(rita, '1 of 3 dots left');
      await clusterIn(rita, green).getByText('Your dots: 2').waitFor();
      assert.equal(await dot(rita, green).isDisabled(), true, 'at most 2 dots on one cluster');

      // One dot left, two taps at once (on the school cluster and the fountain card): the server
      // takes one and refuses the other, which says so in Rita's language.
      const a = await dot(rita, schoolCluster).elementHandle();
      const b = await dot(rita, cards.fountain).elementHandle();
      await rita.evaluate(([x, y]) => {
        x.click();
        y.click();
      }, [a, b]);
      await budgetIs(rita, '0 of 3 dots left');
      const refusal = rita.getByTestId('board-list').getByRole('alert').filter({ hasText: 'You have no dots left. Remove one to put it elsewhere.' });
      await refusal.waitFor({ timeout: LIVE });
      assert.equal(await refusal.count(), 1, 'one of the two taps was refused');
      for (const label of [schoolCluster, cards.fountain, cards.library]) assert.equal(await dot(rita, label).isDisabled(), true, `no dot left for ${label}`);
      // The server refuses it too (asked over HTTP, as a stale page would), with the dots left.
      const greenId = await clusterIn(rita, green).locator('[data-cluster]').getAttribute('data-cluster');
      const libraryId = await cardIn(rita, cards.library).getAttribute('data-card');
      const over = await api(rita, 'POST', `/workshops/${encodeURIComponent(workshopId)}/actions`, { type: 'dot.add', target: libraryId });
      assert.equal(over.status, 409, JSON.stringify(over.body));
      assert.equal(over.body?.error?.code, 'conflict', JSON.stringify(over.body));
      assert.equal(over.body?.error?.limits?.dots, 0, JSON.stringify(over.body));
      const back = await api(rita, 'POST', `/workshops/${encodeURIComponent(workshopId)}/actions`, { type: 'dot.remove', target: greenId });
      assert.equal(back.status, 200, JSON.stringify(back.body));
      await budgetIs(rita, '1 of 3 dots left'); // her page follows what she did elsewhere
      await dot(rita, green).click();
      await budgetIs(rita, '0 of 3 dots left');

      // She takes back the dot that went through and puts it on the library card instead.
      const taken = (await undot(rita, schoolCluster).count()) > 0 ? schoolCluster : cards.fountain;
      assert.equal(await undot(rita, taken === schoolCluster ? cards.fountain : schoolCluster).count(), 0, 'only one tap went through');
      await undot(rita, taken).click();
      await budgetIs(rita, '1 of 3 dots left');
      await dot(rita, cards.library).click();
      await budgetIs(rita, '0 of 3 dots left');

      // Marco on his phone: two on his cluster, one on the green one.
      await dot(marco, schoolCluster).click();
      await budgetIs(marco, '2 of 3 dots left');
      await dot(marco, schoolCluster).click();
      await budgetIs(marco, '1 of 3 dots left');
      await dot(marco, green).click();
      await budgetIs(marco, '0 of 3 dots left');
      await fits(marco, 'the vote at 360 px');
      await checkAxe(marco, 'the vote at 360 px');

      // Karim on the canvas: one on the green cluster, two on the library card, from the panel.
      await karim.getByTestId('board-canvas').getByRole('button', { name: green, exact: true }).click({ position: { x: 8, y: 8 } });
      const kPanel = karim.getByRole('complementary', { name: 'Selected cluster' });
      await dot(kPanel, green).click();
      await budgetIs(karim, '2 of 3 dots left');
      await onCanvas(karim, cards.library).click();
      const cPanel = karim.getByRole('complementary', { name: 'Selected card' });
      await dot(cPanel, cards.library).click();
      await budgetIs(karim, '1 of 3 dots left');
      await dot(cPanel, cards.library).click();
      await budgetIs(karim, '0 of 3 dots left');

      // Everyone sees the progress, nobody the results.
      for (const p of [fac, rita, marco, karim]) {
        await p.getByTestId('vote-progress').getByText('3 people voted, 9 dots spent').waitFor({ timeout: LIVE });
        assert.equal(await p.getByRole('heading', { name: 'Results of the vote' }).count(), 0);
      }
    });
  });

  it('action plan: ranked results, an action with an owner, a cluster becomes a proposal', async (t) => {
    await step(t, [fac, rita, marco, karim], async () => {
      await nextPhase('Action plan');
      const expected = [`1. ${green} · cluster · 4 dots`, `2. ${cards.library} · card · 3 dots`, `3. ${schoolCluster} · cluster · 2 dots`];
      for (const p of [fac, rita, marco, karim]) {
        const results = p.getByTestId('results');
        await results.waitFor({ timeout: LIVE });
        await p.waitForFunction(
          (n) => document.querySelectorAll('[data-testid="results"] li').length === n,
          expected.length,
          { timeout: LIVE },
        );
        const rows = (await results.getByRole('listitem').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
        assert.deepEqual(rows, expected);
      }

      // The facilitator writes an action from the green cluster, owned by Rita.
      const plan = fac.getByRole('region', { name: 'Action plan', exact: true });
      await plan.getByRole('button', { name: 'New action' }).click();
      await plan.getByLabel('What will be done').fill(action);
      await plan.getByLabel('From the cluster').selectOption({ label: green });
      await plan.getByRole('group', { name: 'Who takes it on' }).getByLabel('a person').check();
      await plan.getByLabel('Name of the person or organisation').selectOption({ label: 'Rita' });
      await plan.getByLabel('Due by').fill('2030-05-31');
      await plan.getByLabel('Resources needed').fill(resources);
      await plan.getByRole('button', { name: 'Save' }).click();
      for (const p of [fac, rita, marco, karim]) {
        const item = p.getByTestId('actions').getByRole('listitem').filter({ hasText: action });
        await item.waitFor({ timeout: LIVE });
        await item.getByText(resources).waitFor();
        await item.getByText(green).waitFor();
      }
      // Rita, its owner, sets it in progress; the facilitator sees it.
      await rita.getByLabel(`Status of “${action}”`).selectOption({ label: 'In progress' });
      await fac.getByTestId('actions').locator('[data-status="in_progress"]', { hasText: action }).waitFor({ timeout: LIVE });
      await marco.getByTestId('actions').locator('[data-status="in_progress"]', { hasText: action }).getByText('In progress').waitFor({ timeout: LIVE });

      // The facilitator belongs to no association, and this forum takes no personal proposals:
      // he is not offered what the server would refuse.
      await fac.getByTestId('board-canvas').getByRole('button', { name: green, exact: true }).click({ position: { x: 8, y: 8 } });
      const facCluster = fac.getByRole('complementary', { name: 'Selected cluster' });
      await facCluster.getByRole('heading', { name: new RegExp(`^${green}`) }).waitFor();
      assert.equal(await facCluster.getByRole('button', { name: 'Turn into a proposal' }).count(), 0);

      // Rita turns the green cluster into a proposal for her association.
      const g = clusterIn(rita, green);
      await g.getByRole('button', { name: 'Turn into a proposal' }).click();
      const titleInput = g.getByLabel('Title', { exact: true });
      assert.equal(await titleInput.inputValue(), green, 'the title defaults to the cluster name');
      proposalTitle = `${green}: shade and water`;
      await titleInput.fill(proposalTitle);
      assert.equal(await g.getByLabel('Posted for').locator('option:checked').innerText(), assoc);
      await g.getByRole('button', { name: 'Post the proposal' }).click();
      await g.getByRole('link', { name: 'See the proposal' }).waitFor({ timeout: LIVE });
    });
  });

  it('closed: the output is frozen and exported as Markdown', async (t) => {
    await step(t, [fac, rita, marco, karim], async () => {
      await nextPhase('Closed');
      for (const p of [rita, marco, karim]) {
        await p.getByText('The workshop is over. Its output can be downloaded below.').waitFor();
        assert.equal(await p.getByRole('button', { name: /^Add a dot/ }).count(), 0);
      }
      await marco.getByRole('region', { name: "The workshop's output" }).getByRole('link', { name: 'Markdown' }).waitFor();

      // The Markdown output, as a participant reads it once the workshop is closed.
      const res = await marco.evaluate(async (id) => {
        const r = await fetch(`/api/v1/workshops/${encodeURIComponent(id)}/export.md`);
        return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
      }, workshopId);
      assert.equal(res.status, 200, res.text);
      assert.match(res.type ?? '', /markdown|text\/plain/);
      const md = res.text;
      const section = (name) => {
        const i = md.indexOf(`## ${name}\n`);
        assert.ok(i >= 0, `the output has "${name}":\n${md}`);
        const j = md.indexOf('\n## ', i + 3);
        return md.slice(i, j < 0 ? undefined : j);
      };
      assert.ok(md.startsWith(`# ${title}\n`), md);
      assert.ok(section('Brief').includes(brief), md);
      const people = section('Participants');
      for (const name of ['Rita', 'Marco', 'Karim']) assert.ok(people.includes(`- ${name}\n`), md);
      const clusters = section('Clusters');
      assert.ok(clusters.includes(`### ${green}\n\n- ${cards.trees} (Rita)\n- ${cards.fountain} (Rita)\n`) || clusters.includes(`### ${green}\n\n- ${cards.fountain} (Rita)\n- ${cards.trees} (Rita)\n`), md);
      assert.ok(clusters.includes(`### ${schoolCluster}\n\n- ${cards.school} (Marco)\n`), md);
      assert.ok(clusters.includes(`### Other cards\n\n- ${cards.library} (Karim)\n`), md);
      assert.ok(section('Dot results').includes(`1. ${green}: 4\n2. ${cards.library}: 3\n3. ${schoolCluster}: 2\n`), md);
      assert.ok(section('Action plan').includes(`- **${action}** — in_progress, Rita, 2030-05-31; ${resources}\n`), md);
    });
  });

  it('the proposal is in the forum and says it came from the workshop', async (t) => {
    await step(t, [marco], async () => {
      await go(marco, `/forums/${encodeURIComponent(forumId)}`);
      const workshops = marco.getByRole('region', { name: 'Co-design workshops' });
      await workshops.getByText('Closed workshops (1)').click();
      await workshops.getByTestId('workshops-closed').getByRole('listitem').filter({ hasText: title }).getByRole('link', { name: 'Markdown' }).waitFor();
      const link = marco.getByRole('region', { name: 'Proposals', exact: true }).getByRole('link', { name: proposalTitle });
      await link.waitFor({ timeout: LIVE });
      await link.click();
      await marco.locator('main h1', { hasText: proposalTitle }).waitFor();
      const origin = marco.getByTestId('origin');
      await origin.getByText('Came from the workshop').waitFor();
      await marco.getByText(assoc).first().waitFor();
      await origin.getByRole('link', { name: title }).click();
      await marco.waitForURL(`**/workshops/${workshopId}`);
      await phaseIs(marco, 'Closed');
    });
  });
});
