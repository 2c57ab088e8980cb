// End-to-end: the life of a proposal with several people watching live. A municipality opens a
// forum; a member of an association posts a proposal in French; the administrator names a
// cultural mediator who adds the Italian translation, which an Italian reader sees labelled;
// three people support it while a fourth sees the count change on the forum page; a comment gets
// a reply (live, with a notification); the municipality answers "accepted" and the followers are
// notified live; three reports (from accounts older than a day, thanks to the dev clock) hide a
// comment, a moderator restores it from the queue, and the audit log shows both.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, axe, createForum, fits, formatViolations, launchBrowser, newPage, register, shot, signInAdmin, startServer } from './harness.mjs';

let server;
let browser;
const people = {}; // name -> page
const stamp = Date.now().toString(36);
const titleFr = `Un jardin partagé au quartier ${stamp}`;
const titleIt = `Un orto condiviso nel quartiere ${stamp}`;
const commentText = `Bonne idée, je peux aider ${stamp}`;
const replyText = `Merci, rendez-vous samedi ${stamp}`;
let forumId = '';
let forumPath = '';
let proposalId = '';
let proposalPath = '';
let replyId = '';
let aminaOrgId = '';

async function step(t, pages, fn) {
  const list = Array.isArray(pages) ? pages : [pages];
  try {
    await fn();
    for (const p of list) assert.deepEqual(p.problems, [], 'no console errors or CSP violations');
  } catch (e) {
    for (const p of list) {
      const file = await shot(p, `participation-${t.name}-${list.indexOf(p)}`);
      if (file) e.message += `\n(screenshot: ${file})`;
    }
    if (server) e.message += `\n--- server log (tail) ---\n${server.log().split('\n').slice(-25).join('\n')}`;
    throw e;
  } finally {
    for (const p of list) p.problems.length = 0;
  }
}

async function checkAxe(p, where) {
  const vs = await axe(p);
  assert.equal(vs.length, 0, `axe found serious/critical violations on ${where}:\n${formatViolations(vs)}`);
}

async function go(p, path) {
  await p.goto(server.base + path);
  await p.locator('main h1').first().waitFor();
}

async function mark(p) {
  await p.evaluate(() => (window.__sameDocument = true));
}
async function assertNotReloaded(p) {
  assert.equal(await p.evaluate(() => window.__sameDocument === true), true, 'the page was not reloaded');
}
async function live(p) {
  await p.locator('[data-state="open"]').waitFor({ timeout: 10_000 });
}
async function unread(p) {
  const v = await p.locator('a.inbox').getAttribute('data-unread');
  return Number(v ?? 0);
}
async function waitUnread(p, n) {
  await p.locator(`a.inbox[data-unread="${n}"]`).waitFor({ timeout: 10_000 });
}

async function person(name, language = 'en') {
  const p = await newPage(browser);
  people[name] = p;
  await register(p, server.base, { email: `${name}.${stamp}@example.org`, displayName: name[0].toUpperCase() + name.slice(1), language });
  return p;
}

before(async () => {
  server = await startServer({ env: { INSIEME_DEV_CLOCK: 'true' } });
  browser = await launchBrowser();
});

after(async () => {
  for (const p of Object.values(people)) await p?.context().close();
  await browser?.close();
  await server?.stop();
});

describe('A proposal, its translation, discussion, answer and moderation', () => {
  it('a municipality opens a forum; an association member posts a proposal in French', async (t) => {
    const admin = await newPage(browser);
    people.admin = admin;
    await step(t, admin, async () => {
      await signInAdmin(admin, server.base);
      ({ forumId } = await createForum(admin, {
        municipality: `Comune di Lecce ${stamp}`,
        territory: 'Lecce',
        forum: { title: { it: `Forum di Lecce ${stamp}` }, languages: ['it', 'fr'], reportLimit: 3 },
      }));
      forumPath = `/forums/${encodeURIComponent(forumId)}`;
    });
    const amina = await person('amina');
    await step(t, amina, async () => {
      const o = await api(amina, 'POST', '/organisations', { kind: 'association', name: `Associazione Radici ${stamp}`, description: '', territory: 'Lecce' });
      assert.equal(o.status, 201, JSON.stringify(o.body));
      aminaOrgId = o.body.id;
      const p = await api(amina, 'POST', `/forums/${encodeURIComponent(forumId)}/proposals`, {
        organisationId: o.body.id,
        title: titleFr,
        body: 'Transformer le terrain vague en **jardin partagé**.',
        language: 'fr',
        category: 'culture',
      });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      proposalId = p.body.id;
      proposalPath = `/proposals/${encodeURIComponent(proposalId)}`;
      await go(amina, proposalPath);
      await amina.locator('main h1', { hasText: titleFr }).waitFor();
      // The author follows her proposal automatically.
      assert.equal(await amina.getByRole('button', { name: 'Following' }).getAttribute('aria-pressed'), 'true');
    });
  });

  it('the administrator names a mediator, who adds the Italian translation; an Italian reader sees it labelled', async (t) => {
    const { admin } = people;
    const marco = await person('marco');
    const lucia = await person('lucia', 'it');
    await step(t, [admin, marco, lucia], async () => {
      await go(admin, forumPath);
      await admin.getByText('Cultural mediators').click();
      await admin.getByLabel('Email address of the mediator').fill(`marco.${stamp}@example.org`);
      await admin.getByRole('button', { name: 'Name the mediator' }).click();
      await admin.locator('.mediators li', { hasText: 'Marco' }).waitFor();
      await checkAxe(admin, 'the forum page with the mediators');

      await go(marco, proposalPath);
      await marco.getByRole('heading', { name: 'Translations' }).waitFor();
      await marco.getByText('Add or replace a translation').click();
      await marco.locator('#tr-language').selectOption('it');
      await marco.locator('#tr-title').fill(titleIt);
      await marco.locator('#tr-body').fill("Trasformare il terreno abbandonato in un **orto condiviso**.");
      await marco.getByRole('button', { name: 'Save the translation' }).click();
      await marco.getByText('The translation has been saved.').waitFor();

      await go(lucia, proposalPath);
      await lucia.waitForSelector('html[lang="it"]');
      await lucia.locator('main h1', { hasText: titleIt }).waitFor();
      assert.equal(await lucia.getAttribute('main article', 'lang'), 'it');
      await lucia.getByText('Tradotto da Marco').waitFor();
      await lucia.locator('.body strong', { hasText: 'orto condiviso' }).waitFor();
      const original = lucia.getByRole('button', { name: "Mostra l'originale" });
      await original.click();
      await lucia.locator('main h1', { hasText: titleFr }).waitFor();
      assert.equal(await lucia.getAttribute('main article', 'lang'), 'fr');
      assert.equal(await original.getAttribute('aria-pressed'), 'true');
      await fits(lucia, 'the translated proposal');
    });
  });

  it('three people support it; a fourth sees the count change on the forum page without reloading', async (t) => {
    const bruno = await person('bruno');
    const carla = await person('carla');
    const dario = await person('dario');
    const elena = await person('elena');
    await step(t, [bruno, carla, dario, elena], async () => {
      await go(elena, forumPath);
      await live(elena);
      const item = elena.locator('.proposals li', { hasText: titleFr });
      await item.getByText('Supports: 0').waitFor();
      await mark(elena);
      await go(bruno, proposalPath);
      await bruno.getByRole('button', { name: 'Support' }).click();
      await bruno.locator('#support-count', { hasText: 'Supports: 1' }).waitFor();
      // Supporters follow automatically.
      await bruno.getByRole('button', { name: 'Following' }).waitFor();
      await item.getByText('Supports: 1').waitFor({ timeout: 10_000 });
      for (const p of [carla, dario]) {
        const r = await api(p, 'PUT', `/proposals/${encodeURIComponent(proposalId)}/support`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      await item.getByText('Supports: 3').waitFor({ timeout: 10_000 });
      await assertNotReloaded(elena);
    });
  });

  it('someone comments and gets a reply, live and with a notification', async (t) => {
    const { bruno, carla } = people;
    await step(t, [bruno, carla], async () => {
      await go(bruno, proposalPath);
      await live(bruno);
      await bruno.getByText('No comments yet.').waitFor();
      await bruno.getByLabel('Your comment').fill(commentText);
      await bruno.getByLabel('Your position').selectOption('for');
      await bruno.getByRole('button', { name: 'Post the comment' }).click();
      const top = bruno.locator('li.comment[data-depth="0"]', { hasText: commentText });
      await top.waitFor();
      await top.getByText('In favour').first().waitFor();
      await bruno.getByText('Your comment has been posted.').waitFor();
      assert.equal(await unread(bruno), 0);
      await mark(bruno);

      await go(carla, proposalPath);
      const theirs = carla.locator('li.comment[data-depth="0"]', { hasText: commentText });
      await theirs.waitFor();
      await theirs.getByRole('button', { name: 'Reply' }).click();
      await carla.getByLabel('Your reply').fill(replyText);
      await carla.getByLabel('Your position').last().selectOption('neutral');
      await carla.getByRole('button', { name: 'Post the reply' }).click();
      await carla.getByText('Your reply has been posted.').waitFor();
      const mine = carla.locator('li.comment[data-depth="1"]', { hasText: replyText });
      await mine.waitFor();
      replyId = (await mine.getAttribute('id')).replace(/^c-/, '');
      // Her own reply can be edited (within 15 minutes) and deleted.
      await mine.getByRole('button', { name: 'Edit' }).waitFor();
      await mine.getByRole('button', { name: 'Delete' }).waitFor();

      // Bruno sees the reply under his comment without reloading, and a notification.
      await bruno.locator('li.comment[data-depth="0"] li.comment[data-depth="1"]', { hasText: replyText }).waitFor({ timeout: 10_000 });
      await waitUnread(bruno, 1);
      await assertNotReloaded(bruno);
      await fits(bruno, 'the proposal page with comments');
      await checkAxe(bruno, 'the proposal page with comments');
    });
  });

  it('the municipality answers "accepted"; the followers are notified live', async (t) => {
    const { admin, amina, bruno, dario } = people;
    await step(t, [admin, amina, bruno, dario], async () => {
      await go(amina, '/forums');
      await go(dario, proposalPath);
      await live(amina);
      await live(dario);
      const aminaBefore = await unread(amina);
      const dario0 = await unread(dario);
      await mark(bruno);

      await go(admin, proposalPath);
      await admin.getByText('Write the answer or an update').click();
      await admin.locator('#answer-status').selectOption('accepted');
      await admin.locator('#answer-text').fill('Le jardin sera aménagé au printemps.');
      await admin.getByRole('button', { name: 'Publish the answer' }).click();
      await admin.getByText('The answer has been published.').waitFor();
      await admin.locator('.timeline li[data-status="accepted"]').waitFor();

      await waitUnread(amina, aminaBefore + 1);
      await waitUnread(dario, dario0 + 1);
      await waitUnread(bruno, 2);
      // Bruno's open proposal page shows the answer in the timeline, live.
      await bruno.locator('.timeline li', { hasText: 'Status: Accepted' }).waitFor({ timeout: 10_000 });
      await assertNotReloaded(bruno);

      await bruno.getByRole('navigation').getByRole('link', { name: /Notifications/ }).click();
      await bruno.locator('main h1', { hasText: 'Notifications' }).waitFor();
      await bruno.locator('.notifications li[data-kind="proposal.answer"]', { hasText: titleFr }).waitFor();
      await bruno.locator('.notifications li[data-kind="comment.reply"]').waitFor();
      await fits(bruno, 'the notifications page');
      await checkAxe(bruno, 'the notifications page');
      await bruno.getByRole('button', { name: 'Mark all as read' }).click();
      await bruno.getByText('Every notification is marked as read.').waitFor();
      await waitUnread(bruno, 0);
    });
  });

  it('three reports from accounts older than a day hide a comment; a moderator restores it; the audit log shows both', async (t) => {
    const { admin, bruno, carla, dario, elena } = people;
    await step(t, [admin, bruno, carla, dario], async () => {
      const clock = await api(admin, 'POST', '/dev/clock', { advance: '25h' });
      assert.equal(clock.status, 200, JSON.stringify(clock.body));

      await go(bruno, proposalPath);
      await live(bruno);
      await mark(bruno);
      const reply = bruno.locator('li.comment[data-depth="1"]', { hasText: replyText });
      await reply.getByRole('button', { name: 'Report this comment' }).click();
      await bruno.getByLabel('Offensive').check();
      await bruno.getByLabel('Note for the moderators (optional)').fill('Test report');
      await bruno.getByRole('button', { name: 'Send the report' }).click();
      await bruno.locator('.report-done', { hasText: 'Thank you: your report has been sent to the moderators.' }).waitFor();
      for (const p of [dario, elena]) {
        const r = await api(p, 'POST', '/reports', { targetKind: 'comment', targetId: replyId, reason: 'spam' });
        assert.equal(r.status, 202, JSON.stringify(r.body));
      }
      // Hidden pending review, live on Bruno's page; the reply under it keeps its place.
      await bruno.locator('li.comment[data-depth="1"]').getByText('Hidden pending review.').waitFor({ timeout: 10_000 });
      assert.equal(await bruno.getByText(replyText).count(), 0);
      await assertNotReloaded(bruno);

      // The author is told, and sees the case with its status.
      await go(carla, '/notifications');
      const n = carla.locator('.notifications li[data-kind="moderation"]');
      await n.waitFor();
      await n.getByRole('link').click();
      await carla.locator('main h1', { hasText: 'Moderation case' }).waitFor();
      await carla.getByText('Status: Hidden').waitFor();
      await carla.getByRole('heading', { name: 'Appeal to the administrators' }).waitFor();

      // The administrator, as the forum's manager, restores it from the queue.
      await go(admin, forumPath);
      await admin.getByRole('link', { name: 'Moderation queue' }).click();
      await admin.locator('main h1', { hasText: 'Moderation queue' }).waitFor();
      const item = admin.locator(`li[data-case="comment:${replyId}"]`);
      await item.waitFor();
      await item.getByText('Offensive').first().waitFor();
      await item.getByText('Test report').waitFor();
      await fits(admin, 'the moderation queue');
      await checkAxe(admin, 'the moderation queue');
      // A reason is required.
      await item.getByLabel('Restore').check();
      await item.getByRole('button', { name: 'Apply the decision' }).click();
      await item.locator('textarea[aria-invalid="true"]').waitFor();
      await item.locator('textarea').fill('Not offensive: a friendly reply.');
      await item.getByRole('button', { name: 'Apply the decision' }).click();
      await item.locator('[data-status="restored"]').waitFor();

      await bruno.locator('li.comment[data-depth="1"]', { hasText: replyText }).waitFor({ timeout: 10_000 });
      await assertNotReloaded(bruno);

      await go(admin, '/admin');
      await admin.locator('.audit li[data-action="auto_hide"]').first().waitFor();
      await admin.locator('.audit li[data-action="restore"]', { hasText: 'Not offensive' }).waitFor();
    });
  });

  it('the moderation case, overdue and admin pages pass axe in Arabic (right to left)', async (t) => {
    const { admin, amina } = people;
    await step(t, [admin, amina], async () => {
      // A proposal left without an answer past the forum's answer period is overdue.
      const f = await api(admin, 'PATCH', `/forums/${encodeURIComponent(forumId)}`, { answerDays: 1 });
      assert.equal(f.status, 200, JSON.stringify(f.body));
      const late = `Une fontaine sur la place ${stamp}`;
      const r = await api(amina, 'POST', `/forums/${encodeURIComponent(forumId)}/proposals`, {
        organisationId: aminaOrgId,
        title: late,
        body: 'Une fontaine pour les jours chauds.',
        language: 'fr',
        category: 'culture',
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const clock = await api(admin, 'POST', '/dev/clock', { advance: '25h' });
      assert.equal(clock.status, 200, JSON.stringify(clock.body));

      await go(admin, '/');
      await admin.selectOption('#language-switcher', 'ar');
      await admin.waitForSelector('html[dir="rtl"][lang="ar"]');
      try {
        await go(admin, `/moderation/comment:${replyId}`);
        await admin.locator('main p.notice.info').waitFor();
        await fits(admin, 'the moderation case in Arabic');
        await checkAxe(admin, 'the moderation case in Arabic');

        await go(admin, `${forumPath}/overdue`);
        await admin.locator('main .cards li', { hasText: late }).waitFor();
        await fits(admin, 'the overdue page in Arabic');
        await checkAxe(admin, 'the overdue page in Arabic');

        await go(admin, '/admin');
        await admin.locator('.audit li[data-action="restore"]').first().waitFor();
        await fits(admin, 'the admin page in Arabic');
        await checkAxe(admin, 'the admin page in Arabic');
      } finally {
        await admin.selectOption('#language-switcher', 'en');
        await admin.waitForSelector('html[dir="ltr"][lang="en"]');
      }
    });
  });
});
