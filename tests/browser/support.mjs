// Black-box helpers for the browser tests: a real ticketd process (embedded store, in-process test
// payment provider, or Stripe played by tools/fake-stripe) on a port the OS picks, an API client for
// setup, and Chromium through playwright-core. Nothing here looks inside the server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN = { email: 'admin@ticketd.test', password: 'admin-password-for-tests' };
export const PASSWORD = 'correct horse battery staple';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

// axe-core, the engine behind most accessibility checkers (tests/browser/node_modules, locked). It is
// evaluated in the page rather than added as a <script>, which a page's Content-Security-Policy refuses.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_BLOCKING = new Set(['serious', 'critical']);

// The serious and critical WCAG 2.1 A/AA and best-practice violations on the page as it is now, one
// line each, named `name`.
export async function axeProblems(page, name) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => AXE_BLOCKING.has(v.impact))
    .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(' | ')}`);
}

export const ARTIFACTS_DIR = process.env.TICKETD_ARTIFACTS_DIR || path.join(REPO_ROOT, 'tests/browser/artifacts');

export function ticketdBin() {
  const configured = process.env.TICKETD_BIN;
  return configured ? path.resolve(REPO_ROOT, configured) : path.join(REPO_ROOT, 'build/ticketd');
}

export class Server {
  // mail: write the emails ticketd sends into this.mailDir (read them with mailedLink).
  // port: listen there (0: a port the OS picks); env: more environment (e.g. FakeStripe.serverEnv()).
  constructor(name, { holdTtlS, mail = false, port = 0, env = {} }) {
    this.name = name;
    this.holdTtlS = holdTtlS;
    this.port = port;
    this.env = env;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `ticketd-browser-${name}-`));
    this.logPath = path.join(this.dir, 'ticketd.log');
    this.mailDir = mail ? path.join(this.dir, 'mail') : null;
  }

  async start() {
    const args = ['serve', '--listen', `127.0.0.1:${this.port}`, '--data-dir', path.join(this.dir, 'data'),
      '--hold-ttl', String(this.holdTtlS), '--web-root', path.join(REPO_ROOT, 'web'), '--log-level', 'info',
      '--threads', '2', '--workers', '16'];
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(ticketdBin(), args, {
      stdio: ['ignore', log, log],
      env: { ...process.env, TICKETD_ADMIN_EMAIL: ADMIN.email, TICKETD_ADMIN_PASSWORD: ADMIN.password,
        TICKETD_STRIPE_SECRET_KEY: '',
        ...(this.mailDir ? { TICKETD_MAIL_DIR: this.mailDir, TICKETD_NOTIFY_INTERVAL_MS: '50' } : {}),
        ...this.env },
    });
    fs.closeSync(log);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`ticketd exited during start-up:\n${this.logTail()}`);
      const m = fs.readFileSync(this.logPath, 'utf8').match(/listening url=(http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        this.url = m[1];
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.proc.kill('SIGKILL');
    throw new Error(`ticketd did not start within ${START_TIMEOUT_MS} ms:\n${this.logTail()}`);
  }

  // SIGTERM; throws unless ticketd exits 0 in time (a crash or a sanitizer report fails the suite).
  async stop() {
    if (!this.proc) return;
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    if (this.proc.exitCode !== 0) {
      throw new Error(`ticketd (${this.name}) exited with ${this.proc.exitCode ?? this.proc.signalCode}:\n${this.logTail()}`);
    }
  }

  // The path (and hash) of the `index`-th link matching `pattern` in mail to `email`, once it was written:
  // what the person would click. Each message is MIME with base64 parts, decoded here.
  async mailedLink(email, pattern, { index = 0, timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const links = [];
      const files = fs.existsSync(this.mailDir) ? fs.readdirSync(this.mailDir).filter((f) => f.endsWith('.eml'))
        .sort((a, b) => Number(a.match(/\d+/)) - Number(b.match(/\d+/))) : [];  // in the order they were queued
      for (const f of files) {
        const text = fs.readFileSync(path.join(this.mailDir, f), 'utf8');
        if (!new RegExp(`^To: ${email.replace(/[.+]/g, '\\$&')}\r?$`, 'mi').test(text)) continue;
        for (const block of text.split(/\r?\n\r?\n/)) {
          // A part's body: the base64 lines after its headers, up to the next boundary.
          const lines = [];
          for (const line of block.split(/\r?\n/)) {
            if (!/^[A-Za-z0-9+/=]+$/.test(line)) break;
            lines.push(line);
          }
          const m = Buffer.from(lines.join(''), 'base64').toString('utf8').match(pattern);
          if (m) { links.push(new URL(m[0]).hash); break; }
        }
      }
      if (links.length > index) return `${this.url}/${links[index]}`;
      if (Date.now() > deadline) throw new Error(`no link matching ${pattern} mailed to ${email} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  logTail(lines = 40) {
    try { return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
  }

  async call(method, p, body, token, extraHeaders = {}) {
    const headers = { ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const resp = await fetch(this.url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await resp.text();
    return { status: resp.status, headers: resp.headers, body: text ? JSON.parse(text) : null };
  }

  async login(email, password) {
    const r = await this.call('POST', '/v1/sessions', { email, password });
    if (r.status !== 201) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  async newUser(name) {
    const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.test`;
    const r = await this.call('POST', '/v1/users', { email, password: PASSWORD, name });
    if (r.status !== 201) throw new Error(`register ${email}: ${r.status}`);
    return { email, name, token: await this.login(email, PASSWORD) };
  }

  // Buys seats of `event` for `user` through the API (test card); returns the booking.
  async buy(user, event, seatIds) {
    const hold = await this.call('POST', `/v1/events/${event.id}/holds`, { seat_ids: seatIds }, user.token);
    if (hold.status !== 201) throw new Error(`hold: ${hold.status} ${JSON.stringify(hold.body)}`);
    const booking = await this.call('POST', `/v1/holds/${hold.body.id}/checkout`, { payment_method: 'pm_card_visa' },
      user.token, { 'idempotency-key': `buy-${hold.body.id}` });
    if (booking.status !== 201) throw new Error(`checkout: ${booking.status} ${JSON.stringify(booking.body)}`);
    return booking.body;
  }

  // A small venue (2 sections x 2 rows x `seatsPerRow` seats) and an event on sale now (or at
  // onSaleAt), with an optional waiting room (issue 5's settings object). `flags` marks seats of Floor
  // row B, e.g. {accessible: [1, 2], companion: [3]} (seat numbers, as POST /v1/venues takes them).
  async makeEvent(name, { onSaleAt = null, waitingRoom = null, flags = {}, seatsPerRow = 10 } = {}) {
    const admin = await this.login(ADMIN.email, ADMIN.password);
    const rows = (n) => Array.from({ length: n }, (_, i) => ({ label: String.fromCharCode(65 + i), seats: seatsPerRow }));
    const floor = rows(2);
    Object.assign(floor[1], flags);
    const venue = await this.call('POST', '/v1/venues', { name: `${name} Hall`, sections: [
      { name: 'Floor', price_tier: 'floor', rows: floor },
      { name: 'Balcony', price_tier: 'balcony', rows: rows(2) }] }, admin);
    if (venue.status !== 201) throw new Error(`venue: ${venue.status} ${JSON.stringify(venue.body)}`);
    const now = Date.now();
    const event = await this.call('POST', '/v1/events', {
      name, venue_id: venue.body.id, currency: 'EUR', prices: { floor: 9000, balcony: 4500 }, max_tickets_per_user: 6,
      on_sale_at: new Date(onSaleAt ?? now - 60_000).toISOString(), starts_at: new Date(now + 7 * 86_400_000).toISOString(),
      ...(waitingRoom ? { waiting_room: waitingRoom } : {}),
    }, admin);
    if (event.status !== 201) throw new Error(`event: ${event.status} ${JSON.stringify(event.body)}`);
    return event.body;
  }
}

// A port free now, for a server that must be told another's address before either starts (ticketd
// and the fake Stripe name each other). Another process could take it first; on this machine's
// loopback that does not happen in practice.
export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// tools/fake-stripe/ticketd-fake-stripe as Stripe, sending its webhooks to `webhookUrl`; its log is
// this.logPath (withArtifacts keeps it, as a server's).
export class FakeStripe {
  static API_KEY = 'sk_test_ticketd_browser';
  static WEBHOOK_SECRET = 'whsec_ticketd_browser';

  constructor(name, webhookUrl) {
    this.name = name;
    this.webhookUrl = webhookUrl;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `ticketd-browser-${name}-`));
    this.logPath = path.join(this.dir, 'fake-stripe.log');
  }

  async start() {
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn('/usr/bin/python3', [path.join(REPO_ROOT, 'tools/fake-stripe/ticketd-fake-stripe'), '--port', '0',
      '--api-key', FakeStripe.API_KEY, '--webhook-url', this.webhookUrl, '--webhook-secret', FakeStripe.WEBHOOK_SECRET],
    { stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the fake Stripe did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      this.proc.stdout.on('data', (chunk) => {
        out += chunk;
        const m = out.match(/^FAKE_STRIPE_PORT=(\d+)$/m);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      this.proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the fake Stripe exited with ${code}`)); });
    });
    this.url = `http://127.0.0.1:${port}`;
  }

  // The environment that points ticketd at it.
  serverEnv() {
    return { TICKETD_STRIPE_SECRET_KEY: FakeStripe.API_KEY, TICKETD_STRIPE_WEBHOOK_SECRET: FakeStripe.WEBHOOK_SECRET,
      TICKETD_STRIPE_API_BASE: this.url };
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  async events() {
    return (await (await fetch(`${this.url}/_test/events`)).json()).events;
  }

  // Sets injected faults (tools/fake-stripe/README.md), e.g. {webhook_delay_ms: 3000}; {} leaves them.
  async faults(settings) {
    const resp = await fetch(`${this.url}/_test/faults`, { method: 'POST', body: JSON.stringify(settings) });
    if (!resp.ok) throw new Error(`faults: ${resp.status} ${await resp.text()}`);
  }

  async resetFaults() {
    await fetch(`${this.url}/_test/reset`, { method: 'POST' });
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.TICKETD_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// A browser context per user (separate storage = separate login), phone-sized when asked.
export async function userPage(browser, server, { user = null, phone = false } = {}) {
  const context = await browser.newContext(phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
    : { viewport: { width: 1200, height: 900 } });
  if (user) {
    await context.addInitScript(([token, u]) => {
      if (!localStorage.getItem('ticketd.token')) {
        localStorage.setItem('ticketd.token', token);
        localStorage.setItem('ticketd.user', JSON.stringify(u));
      }
    }, [user.token, { email: user.email, name: user.name }]);
  }
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // Chromium logs every 4xx/5xx answer as "Failed to load resource"; those are expected (a decline is 402).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(m.text());
  });
  page.setDefaultTimeout(10_000);
  await page.goto(server.url + '/');
  return page;
}

// Runs `body`; on failure saves a screenshot of every page and the server log, then rethrows.
export async function withArtifacts(name, pages, servers, body) {
  try {
    await body();
  } catch (err) {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const stamp = `${name.replace(/\W+/g, '_')}-${Date.now()}`;
    for (const [label, page] of Object.entries(pages())) {
      try {
        await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${stamp}-${label}.png`), fullPage: true });
        fs.writeFileSync(path.join(ARTIFACTS_DIR, `${stamp}-${label}.errors.txt`), (page.errors || []).join('\n'));
      } catch { /* the page may be gone */ }
    }
    for (const s of servers) fs.copyFileSync(s.logPath, path.join(ARTIFACTS_DIR, `${stamp}-${s.name}.log`));
    err.message += `\n(screenshots and logs in ${ARTIFACTS_DIR}/${stamp}-*)`;
    throw err;
  }
}

// Seat `number` in the row shown by the seat picker (an option of its listbox; click it to pick it).
// An organizer with an organization of their own.
export async function newOrganizer(server, name) {
  const user = await server.newUser(name);
  const org = await server.call('POST', '/v1/organizations', { name: `${name} Presents` }, user.token);
  assert.equal(org.status, 201, JSON.stringify(org.body));
  return { ...user, orgId: org.body.id };
}

// An event of the organizer's on a venue of `sections`, on sale now and for a week, two tickets per buyer.
export async function organizerEvent(server, organizer, name, sections, prices) {
  const venue = await server.call('POST', '/v1/venues', { name: `${name} Room`, organization_id: organizer.orgId, sections },
    organizer.token);
  assert.equal(venue.status, 201, JSON.stringify(venue.body));
  const now = Date.now();
  const event = await server.call('POST', '/v1/events', { name, venue_id: venue.body.id, currency: 'EUR', prices,
    max_tickets_per_user: 2, on_sale_at: new Date(now - 60_000).toISOString(),
    starts_at: new Date(now + 7 * 86_400_000).toISOString() }, organizer.token);
  assert.equal(event.status, 201, JSON.stringify(event.body));
  return event.body;
}

export function seatBox(page, number) {
  return page.getByRole('option', { name: new RegExp(`^Seat ${number},`) });
}

// Waits until seat `number` of the picker's row says `word` (available / held / held by you / sold / selected).
export async function expectSeat(page, number, word, timeoutMs = 1000) {
  await page.getByRole('option', { name: new RegExp(`^Seat ${number},.*, ${word}$`) }).waitFor({ timeout: timeoutMs });
}

// Clicks seat `seatId` on the canvas itself (where the map says it is drawn).
export async function clickSeatOnMap(page, seatId) {
  const canvas = page.locator('canvas.seatmap');
  await canvas.scrollIntoViewIfNeeded();
  const pos = await page.evaluate((id) => window.ticketdSeatMap.centerOf(id), seatId);
  await canvas.click({ position: { x: pos.x, y: pos.y } });
}
