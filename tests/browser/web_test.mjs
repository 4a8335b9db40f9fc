// The web app in a real browser: two users on one event see each other's holds, sales, expiries and
// declines on the live seat map, and buy and cancel through the pages. Run by scripts/test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Server, launchBrowser, userPage, withArtifacts, seatBox, expectSeat, clickSeatOnMap } from './support.mjs';

const LIVE_MS = 1000;  // issue 6: the other user's map shows a change within a second

let browser;
let server;       // long holds
let shortServer;  // holds lapse after 3 s
const pages = {};

before(async () => {
  server = new Server('main', { holdTtlS: 600 });
  shortServer = new Server('short-ttl', { holdTtlS: 3 });
  await Promise.all([server.start(), shortServer.start()]);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await Promise.all([server?.stop(), shortServer?.stop()]);
});

async function openEvent(page, event) {
  await page.goto(`${new URL(page.url()).origin}/#/events/${event.id}`);
  await page.getByRole('heading', { name: event.name }).waitFor();
  await page.getByText('Live updates: on').waitFor();
}

test('A registers, holds a seat and B sees it HELD live; B cannot take it; A pays and B sees it SOLD', async () => {
  const event = await server.makeEvent('Live Night');
  const bob = await server.newUser('Bob');
  await withArtifacts('hold-and-buy', () => pages, [server], async () => {
    // A registers through the page.
    pages.a = await userPage(browser, server);
    const a = pages.a;
    await a.getByRole('link', { name: 'Register' }).click();
    const email = `ann-${Date.now()}@example.test`;
    await a.getByLabel('Name').fill('Ann');
    await a.getByLabel('Email').fill(email);
    await a.getByLabel(/^Password/).fill('correct horse battery staple');
    await a.getByRole('button', { name: 'Create account' }).click();
    await a.getByText('Signed in as Ann').waitFor();
    await a.getByRole('link', { name: 'Live Night' }).click();
    await a.getByText('Live updates: on').waitFor();

    pages.b = await userPage(browser, server, { user: bob });
    const b = pages.b;
    await openEvent(b, event);
    // B picks seat 6 of Floor row A (seat id 5) first, with the keyboard-usable picker.
    await seatBox(b, 6).click();
    await expectSeat(b, 6, 'selected');

    // A picks the same seat on the canvas and holds it.
    await clickSeatOnMap(a, 5);
    await expectSeat(a, 6, 'selected');
    await a.getByRole('button', { name: 'Hold 1 seat' }).click();
    await a.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.match(await a.locator('#countdown').textContent(), /^(9|10):\d\d$/);

    // B's map shows it HELD within a second, and B's selection of it is withdrawn with a plain message.
    await expectSeat(b, 6, 'held', LIVE_MS);
    await b.getByText('Just taken by someone else: Floor, row A, seat 6.').waitFor({ timeout: LIVE_MS });
    assert.equal(await seatBox(b, 6).isDisabled(), true);
    await clickSeatOnMap(b, 5);
    await b.getByText('Floor, row A, seat 6 is held.').waitFor();
    assert.equal(await b.locator('#hold-btn').isDisabled(), true, 'B has nothing to hold');

    // A pays with a test card and sees the confirmation; B sees the seat SOLD.
    await a.getByLabel('Test card').selectOption('pm_card_visa');
    await a.getByRole('button', { name: /^Pay / }).click();
    await a.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    await a.getByRole('listitem').filter({ hasText: /^Floor, row A, seat 6$/ }).waitFor();
    await a.getByRole('region', { name: 'Tickets' }).getByRole('link', { name: 'Show ticket: Floor, row A, seat 6' }).waitFor();
    await expectSeat(b, 6, 'sold', LIVE_MS);

    // A's bookings list has it; A cancels it and B sees the seat free again.
    await a.getByRole('navigation').getByRole('link', { name: 'My bookings' }).click();
    const cancel = a.getByRole('button', { name: /^Cancel booking \d+$/ });
    await cancel.click();
    await a.getByRole('button', { name: /^Confirm cancellation/ }).click();
    await a.getByText(/is cancelled and refunded/).waitFor();
    await a.getByRole('cell', { name: 'Cancelled' }).waitFor();
    await expectSeat(b, 6, 'available', LIVE_MS);
    assert.deepEqual([...pages.a.errors, ...pages.b.errors], []);
  });
  await pages.a.context().close();
  await pages.b.context().close();
});

test('a declined card shows the error and frees the seats for everyone at once', async () => {
  const event = await server.makeEvent('Decline Night');
  const [ann, bob] = await Promise.all([server.newUser('Ann'), server.newUser('Bob')]);
  await withArtifacts('decline', () => pages, [server], async () => {
    pages.a = await userPage(browser, server, { user: ann });
    pages.b = await userPage(browser, server, { user: bob });
    const a = pages.a, b = pages.b;
    await openEvent(a, event);
    await openEvent(b, event);
    // A asks for the best 2 seats (front row of the best tier: Floor row A, middle).
    await a.getByLabel('Seats', { exact: true }).fill('2');
    await a.getByRole('button', { name: 'Find and hold' }).click();
    await a.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    const held = await a.locator('#buy li').allTextContents();
    assert.equal(held.length, 2);
    const numbers = held.map((t) => Number(t.match(/seat (\d+)$/)[1]));
    for (const n of numbers) await expectSeat(b, n, 'held', LIVE_MS);

    await a.getByLabel('Test card').selectOption('pm_card_chargeDeclinedInsufficientFunds');
    await a.getByRole('button', { name: /^Pay / }).click();
    await a.getByRole('alert').filter({ hasText: 'Payment declined (insufficient funds)' }).waitFor();
    await a.getByText('Nothing was charged and the seats were released.').waitFor();
    await a.getByRole('heading', { name: 'Your selection' }).waitFor();
    for (const n of numbers) await expectSeat(b, n, 'available', LIVE_MS);
    for (const n of numbers) await expectSeat(a, n, 'available', LIVE_MS);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });
  await pages.a.context().close();
  await pages.b.context().close();
});

test('a hold lapses: A sees the countdown end and B sees the seat free again, on a phone-sized screen', async () => {
  const event = await shortServer.makeEvent('Short Hold Night');
  const [ann, bob] = await Promise.all([shortServer.newUser('Ann'), shortServer.newUser('Bob')]);
  await withArtifacts('expiry', () => pages, [shortServer], async () => {
    pages.a = await userPage(browser, shortServer, { user: ann, phone: true });
    pages.b = await userPage(browser, shortServer, { user: bob });
    const a = pages.a, b = pages.b;
    await openEvent(a, event);
    await openEvent(b, event);
    await seatBox(a, 3).click();
    await a.getByRole('button', { name: 'Hold 1 seat' }).click();
    await a.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    await expectSeat(b, 3, 'held', LIVE_MS);
    // Lazy expiry or the sweeper (every second) frees it; the stream tells B either way.
    await expectSeat(b, 3, 'available', 3000 + 2500);
    await a.getByText('Your hold expired and the seats were released.').waitFor({ timeout: 4000 });
    await expectSeat(a, 3, 'available', LIVE_MS);
    // The phone layout does not scroll sideways.
    const overflow = await a.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });
  await pages.a.context().close();
  await pages.b.context().close();
});

// The waiting room's API is issue 5's. Until this server serves it, there is nothing to test here.
test('the waiting room shows the line and lets the user in when admitted', async (t) => {
  const probe = await server.call('GET', '/v1/events/1/queue');
  if (probe.status === 404 && probe.body?.error?.message === 'no such route') {
    t.skip('this ticketd has no waiting room (issue 5) yet');
    return;
  }
  const saleInS = 4;
  const event = await server.makeEvent('Queue Night', {
    onSaleAt: Date.now() + saleInS * 1000,
    waitingRoom: { enabled: true, batch_size: 10, release_interval_s: 1, opens_before_s: 3600 },
  });
  const ann = await server.newUser('Ann');
  await withArtifacts('waiting-room', () => pages, [server], async () => {
    pages.a = await userPage(browser, server, { user: ann });
    const a = pages.a;
    await a.goto(`${server.url}/#/events/${event.id}`);
    await a.getByRole('heading', { name: 'Waiting room: Queue Night' }).waitFor();
    await a.getByText(/The sale opens at/).waitFor();
    // Drawn when the sale opens, then admitted by the releaser: the page enters by itself.
    await a.getByText(/It is your turn: choose seats before/).waitFor({ timeout: (saleInS + 15) * 1000 });
    await a.getByRole('heading', { name: 'Queue Night' }).waitFor();
    await a.getByText('Live updates: on').waitFor();
    await seatBox(a, 2).click();
    await a.getByRole('button', { name: 'Hold 1 seat' }).click();
    await a.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(a.errors, []);
  });
  await pages.a.context().close();
});

test('an account with two-factor login is asked for its authenticator code, and a wrong one is refused', async () => {
  const { createHmac } = await import('node:crypto');
  const user = await server.newUser('Tess');
  const enrolled = await server.call('POST', '/v1/users/me/totp', {}, user.token);
  assert.equal(enrolled.status, 201);
  const b32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const secret = Buffer.from(enrolled.body.secret.split('').reduce((acc, ch) => {
    acc.bits = (acc.bits << 5) | b32.indexOf(ch); acc.n += 5;
    if (acc.n >= 8) { acc.n -= 8; acc.out.push((acc.bits >> acc.n) & 255); }
    return acc;
  }, { bits: 0, n: 0, out: [] }).out);
  const code = (step) => {
    const c = Buffer.alloc(8); c.writeBigUInt64BE(BigInt(step));
    const mac = createHmac('sha1', secret).update(c).digest();
    const o = mac[mac.length - 1] & 15;
    return String((mac.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
  };
  const step = Math.floor(Date.now() / 30_000);
  assert.equal((await server.call('POST', '/v1/users/me/totp/confirm', { code: code(step) }, user.token)).status, 200);
  await withArtifacts('two-factor', () => pages, [server], async () => {
    pages.t = await userPage(browser, server);
    const t = pages.t;
    await t.getByRole('link', { name: 'Log in' }).click();
    await t.getByLabel('Email').fill(user.email);
    await t.getByLabel('Password').fill('correct horse battery staple');
    await t.getByRole('button', { name: 'Log in' }).click();
    await t.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
    const field = t.getByLabel('Code from your authenticator app');
    assert.equal(await field.evaluate((el) => el === document.activeElement), true, 'focus moves to the code');
    await field.fill(code(step));  // used by the confirmation already: refused
    await t.getByRole('button', { name: 'Log in' }).click();
    await t.getByText('That code is wrong or was used already.').waitFor();
    await field.fill(code(step + 1));
    await t.getByRole('button', { name: 'Log in' }).click();
    await t.getByText('Signed in as Tess').waitFor();
    assert.deepEqual(t.errors, []);
  });
  await pages.t.context().close();
});

test('a standing area shows what is left, and a buyer takes places in it by quantity', async () => {
  const admin = await server.login(ADMIN.email, ADMIN.password);
  const venue = await server.call('POST', '/v1/venues', { name: 'Club GA', sections: [
    { name: 'Standing floor', price_tier: 'floor', general_admission: true, capacity: 300 },
    { name: 'Balcony', price_tier: 'balcony', rows: [{ label: 'A', seats: 10 }] }] }, admin);
  assert.equal(venue.status, 201);
  const now = Date.now();
  const event = (await server.call('POST', '/v1/events', {
    name: 'Club Night', venue_id: venue.body.id, currency: 'EUR', prices: { floor: 3000, balcony: 5000 },
    on_sale_at: new Date(now - 60_000).toISOString(), starts_at: new Date(now + 7 * 86_400_000).toISOString(),
  }, admin)).body;
  const gina = await server.newUser('Gina');
  await withArtifacts('general-admission', () => pages, [server], async () => {
    pages.g = await userPage(browser, server, { user: gina });
    const g = pages.g;
    await openEvent(g, event);
    // The area says how many places are left; a click on it picks it under Best available.
    const area = await g.evaluate(() => {
      const m = window.ticketdSeatMap;
      const a = m.areas[0];
      return { x: ((a.x0 + a.x1) / 2 - m.ox) * m.scale, y: ((a.y0 + a.y1) / 2 - m.oy) * m.scale };
    });
    await g.locator('canvas.seatmap').click({ position: area });
    assert.equal(await g.locator('#best [name=section]').inputValue(), 'Standing floor');
    await g.getByLabel('Seats', { exact: true }).fill('2');
    await g.getByRole('button', { name: 'Find and hold' }).click();
    await g.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(await g.locator('#buy li').allTextContents(),
      ['Standing floor (general admission)', 'Standing floor (general admission)']);
    await g.getByLabel('Test card').selectOption('pm_card_visa');
    await g.getByRole('button', { name: /^Pay / }).click();
    await g.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    const left = await g.evaluate(() => {
      const m = window.ticketdSeatMap, a = m.areas[0];
      let n = 0;
      for (let id = a.first; id < a.first + a.count; id++) if (m.statusOf(id) === 'A') n++;
      return n;
    });
    assert.equal(left, 298);
    assert.deepEqual(g.errors, []);
  });
  await pages.g.context().close();
});

test('by keyboard: the seats are one tab stop, arrows move, Space picks and focus stays, and a page change puts focus on its heading', async () => {
  const event = await server.makeEvent('Keyboard Night');
  const kim = await server.newUser('Kim');
  const other = await server.newUser('Other');
  await withArtifacts('keyboard-focus', () => pages, [server], async () => {
    pages.k = await userPage(browser, server, { user: kim });
    const k = pages.k;
    await openEvent(k, event);
    assert.deepEqual(await k.evaluate(() => [document.activeElement.tagName, document.activeElement.textContent]),
      ['H1', 'Keyboard Night'], 'the event page starts at its heading');
    const focusedSeat = () => k.evaluate(() => document.activeElement.dataset.seat);
    await seatBox(k, 3).focus();
    await k.keyboard.press('Space');
    await expectSeat(k, 3, 'selected');
    assert.equal(await focusedSeat(), '2', 'focus stays on seat 3 (id 2)');
    await k.keyboard.press('ArrowRight');
    assert.equal(await focusedSeat(), '3', 'ArrowRight goes to seat 4');
    assert.deepEqual(await k.evaluate(() => [...document.querySelectorAll('#seat-list [tabindex="0"]')].map((e) => e.dataset.seat)),
      ['3'], 'one tab stop: the seat with focus');
    await k.keyboard.press('Tab');
    assert.equal(await k.evaluate(() => document.activeElement.closest('#seat-list')), null, 'Tab leaves the seats');
    await k.keyboard.press('Shift+Tab');
    assert.equal(await focusedSeat(), '3', 'and Shift+Tab comes back to seat 4');

    // Seat 4 is taken by someone else while it has focus: focus stays, and the seat now says so.
    const hold = await server.call('POST', `/v1/events/${event.id}/holds`, { seat_ids: [3] }, other.token);
    assert.equal(hold.status, 201);
    await expectSeat(k, 4, 'held');
    assert.equal(await focusedSeat(), '3');
    assert.equal(await seatBox(k, 4).getAttribute('aria-disabled'), 'true');
    await k.keyboard.press('Enter');
    await k.getByText('Floor, row A, seat 4 is held.').waitFor();

    // Down and up change rows (across sections), keeping the seat number; Home and End go to the ends.
    await k.keyboard.press('ArrowDown');
    assert.equal(await focusedSeat(), '13', 'row B, seat 4');
    assert.equal(await k.locator('#seats-legend').textContent(), 'Floor, row B');
    await k.keyboard.press('ArrowDown');
    assert.equal(await focusedSeat(), '23', 'Balcony row A, seat 4');
    await k.keyboard.press('End');
    assert.equal(await focusedSeat(), '29');
    await k.keyboard.press('Home');
    assert.equal(await focusedSeat(), '20');
    await k.keyboard.press('ArrowUp');
    assert.equal(await focusedSeat(), '10');
    assert.match(await k.evaluate(() => document.activeElement.getAttribute('aria-label')), /^Seat 1, row B, Floor, [^,]*90[^,]*, available$/);

    await k.getByRole('navigation').getByRole('link', { name: 'My bookings' }).click();
    await k.getByRole('heading', { name: 'My bookings' }).waitFor();
    await k.waitForFunction(() => document.activeElement.tagName === 'H1');
    assert.equal(await k.evaluate(() => document.activeElement.textContent), 'My bookings');
  });
});
