// End-to-end: territorial forums and proposals, with two people watching the same forum live.
// An administrator creates a municipality and opens a forum (a draft, then open); a member of an
// association posts a proposal in French; another person sees it appear without reloading,
// supports it, and the author sees the count change without reloading.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, axe, fits, formatViolations, launchBrowser, newPage, register as registerAccount, shot, signInAdmin, startServer } from './harness.mjs';

let server;
let browser;
let admin; // the administrator (staff of every municipality)
let amina; // a member of an association, who posts
let bruno; // another person, who watches and supports
const stamp = Date.now().toString(36);
const municipality = `Comune di Bari ${stamp}`;
const association = `Associazione Ponti ${stamp}`;
const forumIt = `Forum del quartiere Libertà ${stamp}`;
const forumFr = `Forum du quartier Libertà ${stamp}`;
const title = `Écoles ouvertes le samedi ${stamp}`;
let forumPath = '';
let proposalPath = '';

async function step(t, pages, fn) {
  const list = Array.isArray(pages) ? pages : [pages];
  try {
    await fn();
    for (const p of list) assert.deepEqual(p.problems, [], 'no console errors or CSP violations');
  } catch (e) {
    for (const p of list) {
      const file = await shot(p, `forums-${t.name}-${list.indexOf(p)}`);
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

/** A marker that a reload would lose: proves that what follows arrived live. */
async function mark(p) {
  await p.evaluate(() => (window.__sameDocument = true));
}
async function assertNotReloaded(p) {
  assert.equal(await p.evaluate(() => window.__sameDocument === true), true, 'the page was not reloaded');
}

async function register(p, email, displayName) {
  await registerAccount(p, server.base, { email, displayName });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  for (const p of [admin, amina, bruno]) await p?.context().close();
  await browser?.close();
  await server?.stop();
});

describe('Forums and proposals in the browser', () => {
  it('an administrator creates a municipality and opens a forum', async (t) => {
    admin = await newPage(browser);
    await step(t, admin, async () => {
      await signInAdmin(admin, server.base); // the admin account reads Italian; English from here
      const m = await api(admin, 'POST', '/organisations', { kind: 'municipality', name: municipality, description: '', territory: 'Bari' });
      assert.equal(m.status, 201, JSON.stringify(m.body));

      // The header leads to the forums.
      await admin.getByRole('navigation').getByRole('link', { name: 'Forums' }).click();
      await admin.waitForURL('**/forums');
      await admin.locator('main h1', { hasText: 'Territorial forums' }).waitFor();
      await admin.getByRole('heading', { name: 'Open a forum' }).waitFor();
      await admin.getByText('Fill in the new forum').click();
      await admin.locator('#nf-municipality').waitFor();

      // Nothing filled in: the API's problems show next to the inputs.
      await admin.getByRole('button', { name: 'Create the forum' }).click();
      // (The only municipality is chosen already.)
      assert.equal(await admin.locator('#nf-municipality').inputValue(), m.body.id);
      await admin.locator('#nf-title-0[aria-invalid="true"]').waitFor();
      assert.equal(await admin.evaluate(() => document.activeElement?.id), 'nf-title-0');
      assert.equal((await admin.locator('#nf-title-error').textContent())?.trim(), 'This field is required.');
      await fits(admin, 'the forum form');
      await checkAxe(admin, 'the forum form (with errors)');

      await admin.locator('#nf-municipality').selectOption({ label: municipality });
      await admin.locator('#nf-lang-0').selectOption('it');
      await admin.getByLabel('Title (Italiano)').fill(forumIt);
      await admin.getByLabel('Description (Italiano)').fill('Proposte per il quartiere Libertà.');
      await admin.getByRole('button', { name: 'Add a language' }).click();
      // The new row's language select has the focus; make it French.
      assert.equal(await admin.evaluate(() => document.activeElement?.id), 'nf-lang-1');
      await admin.locator('#nf-lang-1').selectOption('fr');
      await admin.getByLabel('Title (Français)').fill(forumFr);
      await admin.getByLabel('Français', { exact: true }).check();
      await admin.getByLabel('Territory').fill('Bari, Libertà');
      await admin.getByRole('button', { name: 'Create the forum' }).click();
      await admin.waitForURL((u) => /^\/forums\/[^/]+$/.test(u.pathname));
      forumPath = new URL(admin.url()).pathname;
      await admin.getByText('The forum has been created.').waitFor();
      // English is not offered: Italian is shown, and said so.
      await admin.locator('main h1', { hasText: forumIt }).waitFor();
      assert.equal(await admin.getAttribute('main h1', 'lang'), 'it');
      await admin.getByText('Shown in Italiano').first().waitFor();
      await admin.locator('.facts .badge', { hasText: 'Draft' }).waitFor();
      await admin.getByText('This forum is not accepting proposals now.').waitFor();

      // Set it open with the edit form.
      await admin.getByText('Edit the forum').click();
      await admin.locator('#ef-status').selectOption('open');
      await admin.getByRole('button', { name: 'Save' }).click();
      await admin.getByText('Saved.').waitFor();
      await admin.locator('.facts .badge', { hasText: 'Open' }).waitFor();
      await admin.getByText('Accepting proposals').waitFor();
      await fits(admin, 'the forum page');
      await checkAxe(admin, 'the forum page (manager)');
    });
  });

  it('a member of an association posts a proposal in French; another person sees it appear live', async (t) => {
    amina = await newPage(browser);
    bruno = await newPage(browser, { locale: 'en-US' });
    await step(t, [amina, bruno], async () => {
      await register(amina, `amina.${stamp}@example.org`, 'Amina Diallo');
      const o = await api(amina, 'POST', '/organisations', { kind: 'association', name: association, description: '', territory: 'Bari' });
      assert.equal(o.status, 201, JSON.stringify(o.body));
      await register(bruno, `bruno.${stamp}@example.org`, 'Bruno Rossi');

      // Bruno opens the forum and waits.
      await go(bruno, forumPath);
      await bruno.locator('[data-state="open"]').waitFor({ timeout: 10_000 });
      await bruno.getByText('No proposals yet.').waitFor();
      await bruno.getByText('To post a proposal, join an association first.').waitFor();
      await mark(bruno);

      // Amina posts: first with nothing filled in, then in French.
      await go(amina, forumPath);
      await amina.getByText('Write a proposal').click();
      await amina.locator('#np-title').waitFor();
      assert.equal(await amina.locator('#np-organisation').inputValue(), o.body.id);
      await amina.getByRole('button', { name: 'Post the proposal' }).click();
      await amina.locator('#np-title[aria-invalid="true"]').waitFor();
      assert.equal((await amina.locator('#np-title-error').textContent())?.trim(), 'This field is required.');
      assert.equal(await amina.getAttribute('#np-category', 'aria-invalid'), 'true');
      assert.equal(await amina.evaluate(() => document.activeElement?.id), 'np-title');
      await checkAxe(amina, 'the proposal form (with errors)');

      await amina.locator('#np-title').fill(title);
      await amina
        .locator('#np-body')
        .fill("Nous proposons d'**ouvrir les écoles** le samedi matin :\n\n- cours d'italien\n- aide aux devoirs\n\n<script>alert(1)</script>");
      await amina.locator('#np-language').selectOption('fr');
      await amina.locator('#np-category').selectOption('school');
      await amina.locator('#np-place').fill('Quartiere Libertà');
      await amina.getByRole('button', { name: 'Post the proposal' }).click();
      await amina.waitForURL((u) => /^\/proposals\/[^/]+$/.test(u.pathname));
      proposalPath = new URL(amina.url()).pathname;
      await amina.getByText('Your proposal has been posted.').waitFor();
      await amina.locator('main h1', { hasText: title }).waitFor();
      assert.equal(await amina.getAttribute('main article', 'lang'), 'fr');
      assert.equal(await amina.locator('.body strong').textContent(), 'ouvrir les écoles');
      assert.equal(await amina.locator('.body li').count(), 2);
      assert.equal(await amina.locator('.body script').count(), 0, 'the body is sanitised');
      await amina.locator('.facts dd', { hasText: 'Quartiere Libertà' }).waitFor();
      await amina.locator('#support-count', { hasText: 'Supports: 0' }).waitFor();
      await amina.getByRole('heading', { name: 'Your proposal' }).waitFor();

      // Bruno's list got it from the forum room, at the top, without a reload.
      const item = bruno.locator('.proposals li', { hasText: title });
      await item.waitFor({ timeout: 10_000 });
      await assertNotReloaded(bruno);
      assert.equal(await bruno.locator('.proposals li').count(), 1);
      await item.getByText(association).waitFor();
      await item.getByText('School').waitFor();
      await item.getByText('Submitted').waitFor();
      await bruno.getByText('Showing 1 of 1').waitFor();
      assert.equal(await item.locator('a').getAttribute('lang'), 'fr');
    });
  });

  it('the other person supports it; the author sees the count change without reloading', async (t) => {
    await step(t, [amina, bruno], async () => {
      await amina.locator('[data-state="open"]').waitFor({ timeout: 10_000 });
      await mark(amina);
      await bruno.locator('.proposals li a', { hasText: title }).click();
      await bruno.waitForURL('**' + proposalPath);
      const support = bruno.getByRole('button', { name: 'Support' });
      await support.waitFor();
      assert.equal(await support.getAttribute('aria-pressed'), 'false');
      await support.click();
      await bruno.locator('button.support[aria-pressed="true"]').waitFor();
      await bruno.locator('#support-count', { hasText: 'Supports: 1' }).waitFor();
      await bruno.getByText('You support this proposal.').waitFor();

      await amina.locator('#support-count', { hasText: 'Supports: 1' }).waitFor({ timeout: 10_000 });
      await assertNotReloaded(amina);

      // Withdrawing the support is live too; and supporting again.
      await support.click();
      await bruno.locator('button.support[aria-pressed="false"]').waitFor();
      await amina.locator('#support-count', { hasText: 'Supports: 0' }).waitFor({ timeout: 10_000 });
      await support.click();
      await amina.locator('#support-count', { hasText: 'Supports: 1' }).waitFor({ timeout: 10_000 });
      await assertNotReloaded(amina);

      // The list on the forum page follows the counts too.
      await go(amina, forumPath);
      await mark(amina);
      const item = amina.locator('.proposals li', { hasText: title });
      await item.getByText('Supports: 1').waitFor();
      await support.click();
      await bruno.locator('button.support[aria-pressed="false"]').waitFor();
      await item.getByText('Supports: 0').waitFor({ timeout: 10_000 });
      await support.click();
      await item.getByText('Supports: 1').waitFor({ timeout: 10_000 });
      await assertNotReloaded(amina);
    });
  });

  it('search finds the proposal with an unaccented query; filters and sorts', async (t) => {
    await step(t, bruno, async () => {
      await go(bruno, forumPath);
      await bruno.locator('.proposals li', { hasText: title }).waitFor();
      await bruno.getByLabel('Search the proposals').fill('ecoles ouvertes');
      await bruno.getByRole('button', { name: 'Search', exact: true }).click();
      await bruno.waitForURL((u) => u.searchParams.get('q') === 'ecoles ouvertes');
      await bruno.locator('.proposals li', { hasText: title }).waitFor();
      await bruno.getByText('Showing 1 of 1').waitFor();
      await bruno.getByLabel('Search the proposals').fill('piscine');
      await bruno.getByRole('button', { name: 'Search', exact: true }).click();
      await bruno.getByText('No proposals match your search.').waitFor();
      assert.equal(await bruno.locator('.proposals li').count(), 0);

      await bruno.getByLabel('Search the proposals').fill('');
      await bruno.getByRole('button', { name: 'Search', exact: true }).click();
      await bruno.locator('#f-language').selectOption('ar');
      await bruno.getByText('No proposals match your search.').waitFor();
      await bruno.locator('#f-language').selectOption('fr');
      await bruno.locator('.proposals li', { hasText: title }).waitFor();
      await bruno.locator('#f-sort').selectOption('random');
      await bruno.locator('.proposals li', { hasText: title }).waitFor();
      await bruno.locator('#f-sort').selectOption('supports');
      await bruno.locator('.proposals li', { hasText: title }).getByText('Supports: 1').waitFor();
      // The filters live in the address: a reload keeps them.
      await bruno.reload();
      await bruno.locator('main h1').waitFor();
      assert.equal(await bruno.locator('#f-language').inputValue(), 'fr');
      assert.equal(await bruno.locator('#f-sort').inputValue(), 'supports');
      await bruno.locator('.proposals li', { hasText: title }).waitFor();
    });
  });

  it('a visitor who is not signed in cannot support, and is told why', async (t) => {
    const guest = await newPage(browser);
    try {
      await step(t, guest, async () => {
        await go(guest, proposalPath);
        const support = guest.getByRole('button', { name: 'Support' });
        await support.waitFor();
        assert.equal(await support.getAttribute('aria-disabled'), 'true');
        await guest.getByText('Sign in to support proposals.').waitFor();
        await guest.locator('#support-count', { hasText: 'Supports: 1' }).waitFor();
        assert.equal(await guest.getByRole('heading', { name: 'Your proposal' }).count(), 0);
        await checkAxe(guest, 'the proposal page (signed out)');
        await go(guest, forumPath);
        await guest.getByText('Members of an association can post proposals here.').waitFor();
        await checkAxe(guest, 'the forum page (signed out)');
      });
    } finally {
      await guest.context().close();
    }
  });

  it('the forums list, forum page and proposal page are accessible and fit 360 px, in English and Arabic', async (t) => {
    await step(t, bruno, async () => {
      const pages = [
        ['/forums', forumIt],
        [forumPath, forumIt],
        [proposalPath, title],
      ];
      for (const lang of ['en', 'ar']) {
        if (lang === 'ar') {
          await bruno.selectOption('#language-switcher', 'ar');
          await bruno.waitForSelector('html[dir="rtl"][lang="ar"]');
        }
        for (const [path, text] of pages) {
          await go(bruno, path);
          await bruno.waitForSelector(`html[lang="${lang}"]`);
          await bruno.getByText(text).first().waitFor();
          if (path === forumPath) await bruno.locator('.proposals li').first().waitFor();
          await fits(bruno, `${path} (${lang})`);
          await checkAxe(bruno, `${path} (${lang})`);
        }
      }
      // In Arabic the forum says which language its title is shown in, and the proposal keeps its own.
      await go(bruno, forumPath);
      await bruno.getByText('معروض باللغة: Italiano').first().waitFor();
      await bruno.getByRole('navigation').getByRole('link', { name: 'المنتديات' }).waitFor();
      await go(bruno, proposalPath);
      assert.equal(await bruno.getAttribute('main article', 'lang'), 'fr');
      await bruno.selectOption('#language-switcher', 'en');
      await bruno.waitForSelector('html[dir="ltr"][lang="en"]');
    });
  });
});
