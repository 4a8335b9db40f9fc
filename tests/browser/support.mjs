// Black-box helpers for the browser tests: a real ticketd process (embedded store, in-process test
// payment provider) on a port the OS picks, an API client for setup, and Chromium through
// playwright-core. Nothing here looks inside the server.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN = { email: 'admin@ticketd.test', password: 'admin-password-for-tests' };
export const PASSWORD = 'correct horse battery staple';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export const ARTIFACTS_DIR = process.env.TICKETD_ARTIFACTS_DIR || path.join(REPO_ROOT, 'tests/browser/artifacts');

export function ticketdBin() {
  const configured = process.env.TICKETD_BIN;
  return configured ? path.resolve(REPO_ROOT, configured) : path.join(REPO_ROOT, 'build/ticketd');
}

export class Server {
  // mail: write the emails ticketd sends into this.mailDir (read them with mailedLink).
  constructor(name, { holdTtlS, mail = false }) {
    this.name = name;
    this.holdTtlS = holdTtlS;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `ticketd-browser-${name}-`));
    this.logPath = path.join(this.dir, 'ticketd.log');
    this.mailDir = mail ? path.join(this.dir, 'mail') : null;
  }

  async start() {
    const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(this.dir, 'data'),
      '--hold-ttl', String(this.holdTtlS), '--web-root', path.join(REPO_ROOT, 'web'), '--log-level', 'info',
      '--threads', '2', '--workers', '16'];
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(ticketdBin(), args, {
      stdio: ['ignore', log, log],
      env: { ...process.env, TICKETD_ADMIN_EMAIL: ADMIN.email, TICKETD_ADMIN_PASSWORD: ADMIN.password,
        TICKETD_STRIPE_SECRET_KEY: '',
        ...(this.mailDir ? { TICKETD_MAIL_DIR: this.mailDir, TICKETD_NOTIFY_INTERVAL_MS: '50' } : {}) },
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

  // A small venue (2 sections x 2 rows x 10 seats) and an event on sale now (or at onSaleAt), with
  // an optional waiting room (issue 5's settings object). `flags` marks seats of Floor row B, e.g.
  // {accessible: [1, 2], companion: [3]} (seat numbers, as POST /v1/venues takes them).
  async makeEvent(name, { onSaleAt = null, waitingRoom = null, flags = {} } = {}) {
    const admin = await this.login(ADMIN.email, ADMIN.password);
    const rows = (n) => Array.from({ length: n }, (_, i) => ({ label: String.fromCharCode(65 + i), seats: 10 }));
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
