// End-to-end: the built app served by the real Go server, driven in chromium at 360 px wide.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_EMAIL, ADMIN_PASSWORD, axe, formatViolations, launchBrowser, newPage, shot, startServer } from './harness.mjs';

let server;
let browser;
let page; // the participant's tab, kept across the steps (like a person using the site)
const stamp = Date.now().toString(36);
const person = { email: `amina.${stamp}@example.org`, name: 'Amina Diallo', password: 'a long password 42' };
const other = { email: `bruno.${stamp}@example.org`, name: 'Bruno Rossi', password: 'bruno has a long password' };
const orgName = `Associazione Ponti ${stamp}`;
let orgPath = '';
let admin; // the administrator's tab (a second browser context)
let second; // another participant's tab (a third context)

async function step(t, p, fn) {
  try {
    await fn();
    assert.deepEqual(p.problems, [], 'no console errors or CSP violations');
  } catch (e) {
    const file = await shot(p, t.name);
    if (file) e.message += `\n(screenshot: ${file})`;
    if (server) e.message += `\n--- server log (tail) ---\n${server.log().split('\n').slice(-25).join('\n')}`;
    throw e;
  } finally {
    p.problems.length = 0;
  }
}

async function checkAxe(p, where) {
  const vs = await axe(p);
  assert.equal(vs.length, 0, `axe found serious/critical violations on ${where}:\n${formatViolations(vs)}`);
}

async function checkFits(p, where) {
  const { scroll, client } = await p.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client + 1, `${where} overflows horizontally at ${client}px (scrollWidth ${scroll})`);
}

async function heading(p) {
  return (await p.locator('main h1').first().textContent())?.trim();
}

// expectHeading waits for the page's h1 to read `text`: pages load lazily, so right after a
// navigation the previous page's heading may still be showing.
async function expectHeading(p, text) {
  await p.locator('main h1', { hasText: text }).first().waitFor();
  assert.equal(await heading(p), text);
}

async function go(p, path) {
  await p.goto(server.base + path);
  await p.locator('main h1').first().waitFor();
}

async function signIn(p, email, password) {
  await go(p, '/signin');
  await p.getByLabel('Email address').fill(email);
  await p.getByLabel('Password', { exact: true }).fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('.who').waitFor();
}

/** mailLink finds the newest link containing `path` in a mail to `to`, from the development outbox. */
async function mailLink(to, path) {
  const mails = await admin.evaluate(async () => (await fetch('/api/v1/admin/outbox')).json());
  const mine = mails
    .filter((m) => m.to === to && m.body.includes(path))
    .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  assert.ok(mine.length, `a mail to ${to} with ${path}`);
  const esc = path.replace(/[?]/g, '\\?');
  const link = mine[0].body.match(new RegExp(`https?://\\S+${esc}\\S+`))?.[0];
  assert.ok(link, `a link in:\n${mine[0].body}`);
  return link;
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await newPage(browser);
});

after(async () => {
  await admin?.context().close();
  await second?.context().close();
  await browser?.close();
  await server?.stop();
});

describe('Insieme in the browser', () => {
  it('serves the app with no inline script or inline handler', async () => {
    const res = await fetch(server.base + '/some/deep/link');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<script type="module"[^>]* src="\/assets\/[^"]+\.js"/);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script>');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler attribute');
    const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
    const a = await fetch(server.base + asset);
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type') ?? '', /javascript/);
  });

  it('shows the home page, keyboard-first and accessible', async (t) => {
    await step(t, page, async () => {
      await go(page, '/');
      await expectHeading(page, 'Welcome to Insieme');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      // The first Tab reaches the skip link, which moves focus to the content.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
      await page.locator('[data-state="open"]').waitFor({ timeout: 10_000 }); // the websocket is live
      await checkFits(page, 'home');
      await checkAxe(page, 'home');
    });
  });

  it('signs up, showing field problems next to the inputs', async (t) => {
    await step(t, page, async () => {
      await page.getByRole('link', { name: 'Sign up' }).first().click();
      await page.waitForURL('**/signup');
      await expectHeading(page, 'Create an account');
      await page.getByRole('button', { name: 'Create my account' }).click();
      await page.locator('#email[aria-invalid="true"]').waitFor();
      const described = await page.getAttribute('#email', 'aria-describedby');
      assert.ok(described?.includes('email-error'));
      assert.ok((await page.locator('#email-error').textContent())?.length);
      await checkFits(page, 'sign up');
      await checkAxe(page, 'sign up (with errors)');

      await page.getByLabel('Email address').fill(person.email);
      await page.getByLabel('Display name').fill(person.name);
      await page.getByLabel('Password', { exact: true }).fill(person.password);
      await page.getByRole('button', { name: 'Create my account' }).click();
      await page.waitForURL('**/account');
      await page.locator('.who', { hasText: `Signed in as ${person.name}` }).waitFor();
      await page.locator('main h1', { hasText: 'My account' }).waitFor();
    });
  });

  it('shows the account page accessibly', async (t) => {
    await step(t, page, async () => {
      await page.getByText(person.email).first().waitFor();
      await page.getByText('Not confirmed').first().waitFor();
      await checkFits(page, 'account');
      await checkAxe(page, 'account');
    });
  });

  it('signs out', async (t) => {
    await step(t, page, async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
      await page.getByText('You have signed out.').waitFor();
      assert.equal(await page.getByText(`Signed in as ${person.name}`).count(), 0);
      const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
      assert.equal(me, 401);
    });
  });

  it('signs in (after a wrong password)', async (t) => {
    await step(t, page, async () => {
      await page.getByRole('link', { name: 'Sign in' }).first().click();
      await page.waitForURL('**/signin');
      await checkAxe(page, 'sign in');
      await page.getByLabel('Email address').fill(person.email);
      await page.getByLabel('Password', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The email address or the password is not correct.').waitFor();
      await page.getByLabel('Password', { exact: true }).fill(person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('.who', { hasText: `Signed in as ${person.name}` }).waitFor();
      await page.waitForURL(server.base + '/');
      await page.locator('[data-state="open"]').waitFor({ timeout: 10_000 });
    });
  });

  it('creates an association and sees it on its page', async (t) => {
    await step(t, page, async () => {
      await go(page, '/organisations/new');
      await expectHeading(page, 'Create an association');
      await page.getByLabel('Name', { exact: true }).fill(orgName);
      await page.getByLabel('Territory').fill('Bari');
      await page.getByLabel('Description').fill('Incontri, corsi di italiano e sportello.\nOgni giovedì.');
      await page.getByRole('button', { name: 'Create the association' }).click();
      await page.waitForURL((u) => /\/organisations\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith('/new'));
      orgPath = new URL(page.url()).pathname;
      await page.locator('main h1', { hasText: orgName }).waitFor();
      await page.getByText('Your role: Owner').waitFor();
      await page.locator('.members', { hasText: person.name }).first().waitFor();
      await page.getByRole('heading', { name: 'Invite someone' }).waitFor();
      await checkFits(page, 'organisation');
      await checkAxe(page, 'organisation page');

      await go(page, '/organisations');
      await page.getByRole('link', { name: orgName }).waitFor();
    });
  });

  it('switches to Arabic: right-to-left, translated, remembered', async (t) => {
    await step(t, page, async () => {
      await go(page, orgPath);
      await page.selectOption('#language-switcher', 'ar');
      await page.waitForSelector('html[dir="rtl"][lang="ar"]');
      await page.getByRole('link', { name: 'المنظمات' }).first().waitFor();
      await page.getByText('الأعضاء').first().waitFor();
      // The layout mirrors: the brand sits at the right edge.
      const box = await page.locator('.brand').boundingBox();
      assert.ok(box && box.x > 360 / 2, `brand should be on the right in RTL (x=${box?.x})`);
      await checkFits(page, 'organisation (ar)');
      await checkAxe(page, 'organisation page (ar)');
      // The account remembers it.
      await page.reload();
      await page.waitForSelector('html[dir="rtl"][lang="ar"]');
      await page.locator('main h1', { hasText: orgName }).waitFor();
      await page.selectOption('#language-switcher', 'en');
      await page.waitForSelector('html[dir="ltr"][lang="en"]');
    });
  });

  it('shows the privacy notice accessibly', async (t) => {
    await step(t, page, async () => {
      await page.getByRole('link', { name: 'Privacy' }).click();
      await page.waitForURL('**/privacy');
      await expectHeading(page, 'Privacy notice');
      for (const text of ['30 days', '1 hour', '14 days', 'Until you delete your account', 'Download everything', 'What the forums store', 'The newest 200', 'only administrators read']) {
        await page.getByText(text).first().waitFor();
      }
      await checkFits(page, 'privacy');
      await checkAxe(page, 'privacy');
    });
  });

  it('fits 360 px in every language, with <html lang dir> set', async (t) => {
    const p = await newPage(browser);
    try {
      await step(t, p, async () => {
        await go(p, '/');
        const langs = await p.$$eval('#language-switcher option', (os) => os.map((o) => o.value));
        assert.deepEqual(langs.sort(), ['ar', 'en', 'fr', 'it', 'ka', 'ro', 'sq', 'uk', 'wo', 'zh']);
        for (const lang of langs) {
          await go(p, '/');
          await p.selectOption('#language-switcher', lang);
          await p.waitForSelector(`html[lang="${lang}"][dir="${lang === 'ar' ? 'rtl' : 'ltr'}"]`);
          for (const path of ['/', '/signup', '/privacy', '/organisations', '/forums']) {
            await go(p, path);
            await p.waitForSelector(`html[lang="${lang}"]`);
            await checkFits(p, `${path} in ${lang}`);
          }
        }
      });
    } finally {
      await p.context().close();
    }
  });

  it('confirms the email with the link from the development outbox (admin page)', async (t) => {
    admin = await newPage(browser, { viewport: { width: 1024, height: 800 } });
    await step(t, admin, async () => {
      await go(admin, '/signin');
      await admin.getByLabel('Email address').fill(ADMIN_EMAIL);
      await admin.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
      await admin.getByRole('button', { name: 'Sign in' }).click();
      // The admin account was created in Italian (the default): the app adopts it at sign-in.
      await admin.waitForSelector('html[lang="it"]');
      await admin.getByRole('link', { name: 'Amministrazione' }).waitFor();
      await admin.selectOption('#language-switcher', 'en');
      await admin.getByRole('link', { name: 'Administration' }).click();
      await admin.waitForURL('**/admin');
      await admin.getByRole('cell', { name: person.email }).waitFor();
      await admin.getByRole('link', { name: orgName }).waitFor();
      const mail = admin.locator('.card', { hasText: `To: ${person.email}` }).filter({ hasText: '/confirm?token=' }).first();
      const body = await mail.locator('pre').textContent();
      const link = body.match(/https?:\/\/\S+\/confirm\?token=\S+/)?.[0];
      assert.ok(link, `a confirmation link in the outbox:\n${body}`);
      await checkAxe(admin, 'admin');

      await page.goto(link);
      await page.getByText('Thank you: your email address is confirmed.').waitFor();
      await go(page, '/account');
      await page.getByText('Confirmed', { exact: true }).waitFor();
    });
  });

  it('owner invites by email; the invitee accepts from My invitations; the owner changes roles', async (t) => {
    second = await newPage(browser, { locale: 'en-US' });
    await step(t, second, async () => {
      await go(second, '/signup');
      await second.getByLabel('Email address').fill(other.email);
      await second.getByLabel('Display name').fill(other.name);
      await second.getByLabel('Password', { exact: true }).fill(other.password);
      await second.getByRole('button', { name: 'Create my account' }).click();
      await second.waitForURL('**/account');
      await second.goto(await mailLink(other.email, '/confirm?token='));
      await second.getByText('Thank you: your email address is confirmed.').waitFor();
    });
    const frames = [];
    await step(t, page, async () => {
      page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
      await go(page, orgPath);
      await page.locator('#inviteEmail').fill(other.email);
      await page.locator('#inviteRole').selectOption('member');
      await page.getByRole('button', { name: 'Send the invitation' }).click();
      await page.getByText(`An invitation has been sent to ${other.email}.`).waitFor();
      await page.locator('.members', { hasText: other.email }).waitFor();
    });
    await step(t, second, async () => {
      await go(second, '/invitations');
      const card = second.locator('.card', { hasText: orgName });
      await card.waitFor();
      await checkFits(second, 'my invitations');
      await checkAxe(second, 'my invitations');
      await card.getByRole('button', { name: 'Accept' }).click();
      await second.getByText(`You are now a member of ${orgName}.`).waitFor();
      await second.getByText('You have no pending invitations.').waitFor();
    });
    await step(t, page, async () => {
      // The owner's page is still open: the org room's event brings the new member in, live.
      const orgId = orgPath.split('/').pop();
      const subscribed = frames.map((f) => JSON.parse(f)).find((m) => m.type === 'subscribed' && m.room === `org:${orgId}`);
      assert.ok(subscribed, `a subscribed frame for org:${orgId} in ${frames.join('\n')}`);
      assert.equal(typeof subscribed.epoch, 'string');
      const row = page.locator('.members li', { hasText: other.name });
      await row.waitFor({ timeout: 10_000 });
      await page.getByText('No pending invitations.').waitFor();
      assert.ok(frames.some((f) => JSON.parse(f).type === 'event'), 'an event frame arrived');
      await row.locator('select').selectOption('owner');
      await row.getByRole('button', { name: 'Change role' }).click();
      await page.getByText(`${other.name} is now: Owner.`).waitFor();
    });
  });

  it('a member hides themselves, and leaves; the last owner cannot leave', async (t) => {
    await step(t, second, async () => {
      await go(second, orgPath);
      await second.getByText('Your role: Owner').waitFor();
      const box = second.getByLabel('List me publicly on this page');
      const was = await box.isChecked();
      await box.setChecked(!was);
      await second.getByText(was ? 'You are no longer listed publicly.' : 'You are now listed publicly.').waitFor();
      assert.equal(await box.isChecked(), !was);
      await second.getByRole('button', { name: 'Leave this organisation' }).click();
      await second.getByRole('button', { name: 'Yes, leave' }).click();
      await second.getByText(`You have left ${orgName}.`).waitFor();
    });
    await step(t, page, async () => {
      await go(page, orgPath);
      await page.getByRole('button', { name: 'Leave this organisation' }).click();
      await page.getByRole('button', { name: 'Yes, leave' }).click();
      await page.getByText('The last owner cannot leave. Make another member owner first.').waitFor();
      await page.getByText('Your role: Owner').waitFor();
    });
  });

  it('accepts an invitation from the link in the mail (/invite?token=)', async (t) => {
    await step(t, page, async () => {
      await go(page, orgPath);
      await page.locator('#inviteEmail').fill(ADMIN_EMAIL);
      await page.getByRole('button', { name: 'Send the invitation' }).click();
      await page.getByText(`An invitation has been sent to ${ADMIN_EMAIL}.`).waitFor();
    });
    await step(t, admin, async () => {
      const link = await mailLink(ADMIN_EMAIL, '/invite?token=');
      await admin.goto(link);
      await admin.getByRole('button', { name: 'Accept the invitation' }).click();
      await admin.getByText(`You have joined ${orgName} as Member.`).waitFor();
      await admin.getByRole('link', { name: 'Open the organisation page' }).click();
      await admin.getByText('Your role: Member').waitFor();
    });
  });

  it('resets a forgotten password with the link from the mail', async (t) => {
    await step(t, page, async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in' }).first().click();
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.waitForURL('**/forgot');
      await checkAxe(page, 'forgot password');
      await page.getByLabel('Email address').fill(person.email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText(`If ${person.email} belongs to an account`).waitFor();

      const link = await mailLink(person.email, '/reset?token=');
      await page.goto(link);
      await page.locator('main h1', { hasText: 'Choose a new password' }).waitFor();
      await page.getByLabel('New password', { exact: true }).fill('short');
      await page.getByLabel('Repeat the new password').fill('short');
      await page.getByRole('button', { name: 'Save the new password' }).click();
      await page.getByText('This is too short. At least 10 characters.').waitFor();
      assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
      await checkAxe(page, 'reset password (with errors)');
      person.password = 'a brand new password 7';
      await page.getByLabel('New password', { exact: true }).fill(person.password);
      await page.getByLabel('Repeat the new password').fill(person.password);
      await page.getByRole('button', { name: 'Save the new password' }).click();
      await page.getByText('Your password has been changed.').waitFor();
      await signIn(page, person.email, person.password);
    });
  });

  it('admin suspends and lifts the suspension of a person', async (t) => {
    await step(t, admin, async () => {
      await go(admin, '/admin');
      await admin.getByRole('button', { name: `Suspend ${person.name}` }).click();
      await admin.getByText(`${person.name} has been suspended.`).waitFor();
      await admin.getByRole('button', { name: `Lift the suspension of ${person.name}` }).click();
      await admin.getByText(`The suspension of ${person.name} has been lifted.`).waitFor();
      await admin.getByRole('button', { name: `Verify ${orgName}` }).click();
      await admin.getByText('The organisation is now verified.').waitFor();
    });
    await step(t, page, async () => {
      // Suspension ended every session of the account.
      const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
      assert.equal(me, 401);
      await signIn(page, person.email, person.password);
      await go(page, orgPath);
      await page.locator('main h1 .badge.verified').waitFor();
    });
  });

  it('changes the profile and password, downloads the data, and deletes the account', async (t) => {
    await step(t, page, async () => {
      await go(page, '/account');
      await page.getByLabel('Display name').fill('x'.repeat(61));
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('This is too long. At most 60 characters.').waitFor();
      await page.getByLabel('Display name').fill('Amina D.');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Your profile has been saved.').waitFor();
      await page.locator('.who', { hasText: 'Signed in as Amina D.' }).waitFor();

      await page.getByLabel('Current password').fill('not my password');
      await page.getByLabel('New password', { exact: true }).fill('another long password');
      await page.getByRole('button', { name: 'Change the password' }).click();
      await page.getByText('The password is not correct.').waitFor();
      await page.getByLabel('Current password').fill(person.password);
      await page.getByRole('button', { name: 'Change the password' }).click();
      await page.getByText('Your password has been changed.').waitFor();
      person.password = 'another long password';

      const href = await page.getByRole('link', { name: 'Download my data' }).getAttribute('href');
      const exported = await page.evaluate(async (h) => {
        const r = await fetch(h);
        return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
      }, href);
      assert.equal(exported.status, 200);
      assert.match(exported.type ?? '', /json/);
      assert.ok(exported.text.includes(person.email), 'the export holds the email');

      await page.getByLabel('Your password, to confirm').fill('wrong password here');
      await page.getByRole('button', { name: 'Delete my account for good' }).click();
      await page.getByText('The password is not correct.').last().waitFor();
      await page.getByLabel('Your password, to confirm').fill(person.password);
      await page.getByRole('button', { name: 'Delete my account for good' }).click();
      // The administrator joined the association as a member: its last owner cannot go (409).
      await page.getByText('You are the last owner of an association that has other members.', { exact: false }).waitFor();
    });
    await step(t, admin, async () => {
      await go(admin, orgPath);
      await admin.getByRole('button', { name: 'Leave this organisation' }).click();
      await admin.getByRole('button', { name: 'Yes, leave' }).click();
      await admin.getByText(`You have left ${orgName}.`).waitFor();
    });
    await step(t, page, async () => {
      await page.getByRole('button', { name: 'Delete my account for good' }).click();
      await page.getByText('Your account has been deleted.').waitFor();
      await page.getByRole('link', { name: 'Sign in' }).first().waitFor();

      await go(page, '/signin');
      await page.getByLabel('Email address').fill(person.email);
      await page.getByLabel('Password', { exact: true }).fill(person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('The email address or the password is not correct.').waitFor();
    });
  });
});
