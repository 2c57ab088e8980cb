// Shared e2e plumbing: start the real server on a free port with a fresh data directory, drive
// Debian's chromium with playwright-core, run axe-core, and save screenshots on failure.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const frontendDir = resolve(here, '..');
export const screenshotDir = join(here, 'screenshots');

export const ADMIN_EMAIL = 'a@example.org';
export const ADMIN_PASSWORD = 'an admin password for e2e';

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function run(bin, args, env, input) {
  return new Promise((ok, fail) => {
    const p = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${bin} ${args.join(' ')} exited ${code}:\n${out}`))));
    p.stdin.end(input ?? '');
  });
}

/**
 * startServer runs `insieme serve` on a free port with a fresh data dir and an admin account.
 * `opts.env` adds environment variables (e.g. `{ INSIEME_DEV_CLOCK: 'true' }`).
 */
export async function startServer(opts = {}) {
  const bin = resolve(frontendDir, process.env.INSIEME_BIN || '../bin/insieme');
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: build it first (cd .. && go build -o bin/insieme ./cmd/insieme) or set INSIEME_BIN`);
  }
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'insieme-e2e-'));
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    INSIEME_ADDR: `127.0.0.1:${port}`,
    INSIEME_BASE_URL: base,
    INSIEME_DATA_DIR: dataDir,
    INSIEME_METRICS_ADDR: 'off',
    INSIEME_LOG_FORMAT: 'text',
    ...(opts.env ?? {}),
  };
  await run(bin, ['admin', 'create', '--email', ADMIN_EMAIL, '--password-stdin'], env, `${ADMIN_PASSWORD}\n`);

  const proc = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  let exited = null;
  proc.on('exit', (code, signal) => (exited = { code, signal }));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`insieme serve exited early (${JSON.stringify(exited)}):\n${log}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`insieme serve did not answer /healthz within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    base,
    log: () => log,
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        await Promise.race([
          new Promise((r) => proc.once('exit', r)),
          new Promise((r) => setTimeout(r, 10_000)),
        ]);
        if (!exited) proc.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * newPage opens a page that records console errors and CSP violations (the server's CSP must
 * accept everything the app does).
 */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 360, height: 740 },
    locale: opts.locale ?? 'en-GB',
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) page.problems.push(`CSP: ${text}`);
    else if (msg.type() === 'error' && !/status of 40[0139]\b/.test(text)) page.problems.push(`console: ${text}`);
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  return page;
}

const axeSource = readFileSync(resolve(frontendDir, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe runs axe-core on the page and returns its serious and critical violations. */
export async function axe(page) {
  // Evaluated through the devtools protocol, which the page's CSP does not restrict.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — ' + n.failureSummary),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function formatViolations(vs) {
  return vs.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n');
}

/** shot saves a screenshot (used on failure). */
export async function shot(page, name) {
  if (!page || page.isClosed()) return null;
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } catch {
    return null;
  }
}

/** api calls the JSON API from inside a page (its cookie and its Origin), returning {status, body}. */
export async function api(page, method, path, body) {
  return page.evaluate(
    async ([method, path, body]) => {
      const init = { method, headers: { Accept: 'application/json' } };
      if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      const r = await fetch('/api/v1' + path, init);
      const text = await r.text();
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = text;
      }
      return { status: r.status, body: data };
    },
    [method, path, body],
  );
}

/** fits asserts that the page does not overflow horizontally (360 px phones). */
export async function fits(page, where) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  if (scroll > client + 1) throw new Error(`${where} overflows horizontally at ${client}px (scrollWidth ${scroll})`);
}

// --- shared set-up steps ----------------------------------------------------------------------

/**
 * signInAdmin signs the administrator in with the form (the account reads Italian) and switches
 * the site to English, saved to the account before the next page loads.
 */
export async function signInAdmin(page, base) {
  await page.goto(base + '/signin');
  await page.locator('main h1').first().waitFor();
  await page.getByLabel('Email address').fill(ADMIN_EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('html[lang="it"]');
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/me') && r.request().method() === 'PATCH' && r.ok()),
    page.selectOption('#language-switcher', 'en'),
  ]);
  await page.waitForSelector('html[lang="en"]');
}

/**
 * createForum makes a municipality and a forum in it through the API, as the (signed-in)
 * administrator of `page`: `forum` is the forum's body without municipalityId (default: open,
 * in Italian). Returns { municipalityId, forumId }.
 */
export async function createForum(page, { municipality, territory, forum }) {
  const m = await api(page, 'POST', '/organisations', { kind: 'municipality', name: municipality, description: '', territory });
  if (m.status !== 201) throw new Error(`creating the municipality: ${m.status} ${JSON.stringify(m.body)}`);
  const f = await api(page, 'POST', '/forums', { languages: ['it'], status: 'open', ...forum, municipalityId: m.body.id });
  if (f.status !== 201) throw new Error(`creating the forum: ${f.status} ${JSON.stringify(f.body)}`);
  return { municipalityId: m.body.id, forumId: f.body.id };
}

/** register creates an account through the API; `page` is signed in as it afterwards. */
export async function register(page, base, { email, displayName, language = 'en', password = 'a long password 42' }) {
  await page.goto(base + '/');
  await page.locator('main h1').first().waitFor();
  const r = await api(page, 'POST', '/auth/register', { email, password, displayName, language });
  if (r.status !== 201) throw new Error(`registering ${email}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
