// Tickets at the door, end to end in real browsers: a newcomer buys two seats and opens a ticket; a
// scanner page whose camera films that ticket's QR code admits it once, a second scanner refuses it,
// a scanner with the network cut still admits (and uploads when the network returns), and a picture
// of an old rotating code is refused. Run by scripts/test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, PASSWORD, REPO_ROOT, Server, launchBrowser, userPage, withArtifacts, seatBox } from './support.mjs';

const LIVE_MS = 1000;      // issue: scanners of one event see each other's scans within a second
const CAMERA_MS = 15_000;  // camera start, decoder load and the first good frame, on a slow CI machine

let browser;
let server;
const pages = {};
const cameras = [];  // browsers with a fake camera, one per QR picture

before(async () => {
  server = new Server('door', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  for (const b of cameras) await b.close();
  if (browser) await browser.close();
  await server?.stop();
});

// A Chromium whose camera shows `gray` (w x h, 0 = black) centred on white, as a looping .y4m file.
async function browserFilming(name, gray, w, h) {
  const W = 640, H = 480;
  const scale = Math.max(1, Math.floor(Math.min(400 / w, 400 / h)));
  const x0 = Math.floor((W - w * scale) / 2), y0 = Math.floor((H - h * scale) / 2);
  const y = Buffer.alloc(W * H, 255);
  for (let r = 0; r < h * scale; r++) {
    for (let c = 0; c < w * scale; c++) y[(y0 + r) * W + x0 + c] = gray[Math.floor(r / scale) * w + Math.floor(c / scale)];
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma, chroma]);
  const file = path.join(server.dir, `${name}.y4m`);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
  const b = await chromium.launch({
    executablePath: process.env.TICKETD_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`],
  });
  cameras.push(b);
  return b;
}

// The QR code the ticket page of `seat` shows, once drawn (data-step is set after drawing), as gray pixels.
async function shownQr(page, seat) {
  await page.locator('#ticket-seat', { hasText: seat }).waitFor();
  await page.locator('#ticket-qr[data-step]').waitFor();
  return qrPixels(page);
}

// The QR code the ticket page draws right now, as gray pixels.
async function qrPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector('#ticket-qr');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const gray = new Array(c.width * c.height);
    for (let i = 0; i < gray.length; i++) gray[i] = d[4 * i];
    return { gray, w: c.width, h: c.height };
  });
}

// A QR code of `text` as gray pixels (the same encoder the ticket page uses), 4 px per module.
async function qrOf(text) {
  const { default: qrcode } = await import(path.join(REPO_ROOT, 'web/vendor/qrcode.mjs'));
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Alphanumeric');
  qr.make();
  const n = qr.getModuleCount(), px = 4, quiet = 4, side = (n + 2 * quiet) * px;
  const gray = new Array(side * side).fill(255);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    if (!qr.isDark(r, c)) continue;
    for (let i = 0; i < px; i++) for (let j = 0; j < px; j++) gray[((r + quiet) * px + i) * side + (c + quiet) * px + j] = 0;
  }
  return { gray, w: side, h: side };
}

function totp(keyHex, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha256', Buffer.from(keyHex, 'hex')).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1e8).padStart(8, '0');
}

// A door scanner page in `b`, logged in as `staff`, scanning `event` at `gate` (camera not started).
async function scannerPage(b, staff, event, gate, contextOptions = {}) {
  const context = await b.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, ...contextOptions });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.setDefaultTimeout(10_000);
  await page.goto(server.url + '/scan');
  await page.getByLabel('Email').fill(staff.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByLabel('Event').selectOption(String(event.id));
  await page.getByLabel('Gate').fill(gate);
  await page.getByRole('button', { name: 'Start scanning' }).click();
  await page.getByRole('heading', { name: new RegExp(event.name) }).waitFor();
  await page.getByText(/^Online$/).waitFor();  // the door feed is up
  return page;
}

async function verdict(page, timeoutMs = CAMERA_MS) {
  const box = page.locator('#result:not([hidden])');
  await box.waitFor({ timeout: timeoutMs });
  return { result: await box.getAttribute('data-result'), text: await box.innerText() };
}

test('a bought ticket is admitted once by camera, refused at a second door, admitted offline, and an old code is refused', async () => {
  const event = await server.makeEvent('Door Night');
  const staff = await server.newUser('Dora');
  const admin = await server.login(ADMIN.email, ADMIN.password);
  assert.equal((await server.call('POST', `/v1/events/${event.id}/door-staff`, { email: staff.email }, admin)).status, 201);

  await withArtifacts('door', () => pages, [server], async () => {
    // A newcomer registers, buys two seats and opens the first ticket, on a phone.
    pages.buyer = await userPage(browser, server, { phone: true });
    const buyer = pages.buyer;
    await buyer.getByRole('link', { name: 'Register' }).click();
    await buyer.getByLabel('Name').fill('Nia');
    await buyer.getByLabel('Email').fill(`nia-${Date.now()}@example.test`);
    await buyer.getByLabel(/^Password/).fill(PASSWORD);
    await buyer.getByRole('button', { name: 'Create account' }).click();
    await buyer.getByText('Signed in as Nia').waitFor();
    await buyer.goto(`${server.url}/#/events/${event.id}`);
    await seatBox(buyer, 1).click();
    await seatBox(buyer, 2).click();
    await buyer.getByRole('button', { name: 'Hold 2 seats' }).click();
    await buyer.getByLabel('Test card').selectOption('pm_card_visa');
    await buyer.getByRole('button', { name: /^Pay / }).click();
    await buyer.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    await buyer.getByRole('link', { name: 'Show ticket: Floor, row A, seat 1' }).click();
    const first = await shownQr(buyer, 'Floor, row A, seat 1');

    // Door 1 films it: admitted.
    const filmingFirst = await browserFilming('first', first.gray, first.w, first.h);
    pages.north = await scannerPage(filmingFirst, staff, event, 'North');
    pages.south = await scannerPage(filmingFirst, staff, event, 'South');
    await pages.north.getByRole('button', { name: 'Start camera' }).click();
    const admitted = await verdict(pages.north);
    assert.equal(admitted.result, 'ok', admitted.text);
    assert.match(admitted.text, /Admitted[\s\S]*Floor, row A, seat 1/);
    // Door 2 hears of it within a second, and its camera (the same ticket) is refused.
    await pages.south.getByText('1 inside (North 1)').waitFor({ timeout: LIVE_MS });
    await pages.south.getByRole('button', { name: 'Start camera' }).click();
    const again = await verdict(pages.south);
    assert.equal(again.result, 'already_in', again.text);
    assert.match(again.text, /Already inside since .* at North/);

    // The second ticket, at a door whose network is cut after it opened: admitted, queued, uploaded.
    await buyer.goBack();
    await buyer.getByRole('link', { name: 'Show ticket: Floor, row A, seat 2' }).click();
    const second = await shownQr(buyer, 'Floor, row A, seat 2');
    const filmingSecond = await browserFilming('second', second.gray, second.w, second.h);
    pages.east = await scannerPage(filmingSecond, staff, event, 'East');
    await pages.east.context().setOffline(true);
    await pages.east.getByText('Offline').waitFor();
    // Even a reload with the network gone brings the scanner back (service worker, saved bundle).
    await pages.east.reload();
    await pages.east.getByRole('button', { name: 'Start scanning' }).click();
    await pages.east.getByRole('heading', { name: /Door Night · East/ }).waitFor();
    await pages.east.getByText('Offline').waitFor();
    await pages.east.getByRole('button', { name: 'Start camera' }).click();
    const offline = await verdict(pages.east);
    assert.equal(offline.result, 'ok', offline.text);
    assert.match(offline.text, /Decided on this device/);
    await pages.east.getByText('1 waiting to upload').waitFor();
    await pages.east.context().setOffline(false);
    await pages.east.getByText('0 waiting to upload').waitFor();
    await pages.north.getByText('2 inside').waitFor({ timeout: 5000 });
    const bundle = await server.call('GET', `/v1/events/${event.id}/scanner-bundle`, undefined, admin);
    assert.equal(bundle.body.checked_in.length, 2);

    // A picture of the first ticket's code from a minute ago (a screenshot passed on) is refused.
    const tickets = await buyer.evaluate(() => JSON.parse(localStorage.getItem('ticketd.tickets')));
    const t1 = Object.values(tickets).find((t) => t.seat_number === 1 || t.seat_number === '1');
    const oldStep = Math.floor(Date.now() / 15_000) - 4;
    const old = await qrOf(`${t1.code}:${totp(t1.rotation.key, oldStep)}`);
    const filmingOld = await browserFilming('old', old.gray, old.w, old.h);
    pages.west = await scannerPage(filmingOld, staff, event, 'West');
    await pages.west.getByRole('button', { name: 'Start camera' }).click();
    const stale = await verdict(pages.west);
    assert.equal(stale.result, 'code_expired', stale.text);
    assert.match(stale.text, /Old code/);

    for (const p of Object.values(pages)) assert.deepEqual(p.errors, []);
  });
});

// The network dropping while the scanner downloads its bundle (it does so again each time the door feed
// opens) cut the answer short; the scanner once saved that as its bundle, and then could not open.
test('a scanner whose bundle download is cut off keeps the bundle it saved and still opens', async () => {
  const event = await server.makeEvent('Cut Night');
  const staff = await server.newUser('Cato');
  const admin = await server.login(ADMIN.email, ADMIN.password);
  assert.equal((await server.call('POST', `/v1/events/${event.id}/door-staff`, { email: staff.email }, admin)).status, 201);
  const cut = {};
  await withArtifacts('door-cut', () => cut, [server], async () => {
    // Playwright's routes do not see the requests a service worker takes: this page has none.
    cut.door = await scannerPage(browser, staff, event, 'Gate 9', { serviceWorkers: 'block' });
    const door = cut.door;
    const saved = () => door.evaluate((id) => JSON.parse(localStorage.getItem(`ticketd.scan.bundle.${id}`)), event.id);
    assert.ok(Array.isArray((await saved())?.keys), 'no bundle was saved');
    // From now on every bundle answer stops mid-body.
    await door.route('**/scanner-bundle*', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: '{"event_id": 1, "keys": [' }));
    await door.reload();
    await door.getByRole('button', { name: 'Start scanning' }).click();
    await door.getByRole('heading', { name: /Cut Night · Gate 9/ }).waitFor();
    assert.ok(Array.isArray((await saved())?.keys), 'the saved bundle was overwritten');
    assert.deepEqual(door.errors, []);
  });
});

test('a holder sends a ticket from its page; the receiver accepts it and gets a working ticket page', async () => {
  const event = await server.makeEvent('Gift Night');
  const [ann, bo] = await Promise.all([server.newUser('Ann'), server.newUser('Bo')]);
  const booking = await server.buy(ann, event, [4]);
  const tickets = await server.call('GET', `/v1/bookings/${booking.id}/tickets`, undefined, ann.token);
  const original = tickets.body.tickets[0];
  await withArtifacts('transfer', () => pages, [server], async () => {
    pages.ann = await userPage(browser, server, { user: ann, phone: true });
    pages.bo = await userPage(browser, server, { user: bo });
    const a = pages.ann, b = pages.bo;
    await a.goto(`${server.url}/#/tickets/${original.id}`);
    await a.getByText('Send this ticket to someone').click();
    await a.getByLabel('Their email').fill(bo.email);
    await a.getByRole('button', { name: 'Send ticket' }).click();
    await a.getByRole('heading', { name: 'Waiting for the other person' }).waitFor();
    await a.getByText(`Gift Night: sent to ${bo.email}`).waitFor();

    await b.getByRole('navigation').getByRole('link', { name: 'My tickets' }).click();
    await b.getByRole('heading', { name: 'Sent to you' }).waitFor();
    await b.getByText('A ticket for Gift Night').waitFor();
    await b.getByRole('button', { name: /^Accept ticket \d+$/ }).click();
    await b.getByText('The ticket is yours').waitFor();
    await b.getByRole('link', { name: 'Gift Night: Floor, row A, seat 5' }).click();
    await b.locator('#ticket-qr[data-step]').waitFor();  // drawn
    await b.getByText(/New code in \d+ s/).waitFor();

    // Ann's old ticket is dead; her page says so instead of showing a code.
    await a.goto(`${server.url}/#/tickets/${original.id}`);
    await a.getByRole('alert').filter({ hasText: 'This ticket is no longer valid (transferred)' }).waitFor();
    assert.equal(await a.locator('#ticket-qr').count(), 0);
    for (const p of [a, b]) assert.deepEqual(p.errors, []);
  });
  await pages.ann.context().close();
  await pages.bo.context().close();
});
