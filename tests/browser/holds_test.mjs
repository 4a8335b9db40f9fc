// The buyer's holds and turns across tabs, logins and waiting rooms: a hold made in one tab shows in
// another tab of the same browser (and after a reload), where it can be resumed, paid or released, and
// the first tab hears of it; seats picked before logging in are still picked after; a visitor of a
// queued event sees the queue and the time left, not a map to hold from; an access window that ends
// says so and offers to join again, at the end of the line; a place whose turn went unused stops asking
// the server; a buyer in line when the sale sells out keeps the place and is let in when seats come back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, PASSWORD, Server, launchBrowser, userPage, withArtifacts, seatBox, expectSeat } from './support.mjs';

const TAB_MS = 3000;      // another tab hears of a change: a storage event, then GET /v1/holds/{id}
const PAGE_MS = 5000;     // a page change that loads the event, its venue and the seat stream
const WINDOW_S = 5;       // the short access window of the waiting-room test
const ROOM_MS = 10_000;   // a waiting-room change the page hears of: a releaser pass, then a poll (1 s apart here)
const SOLD_OUT_TEXT = 'Sold out for now. You keep your place in line: seats that come back (unpaid holds, '
  + 'cancellations) go to the people waiting, in order.';

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('holds', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

async function openEvent(page, event) {
  await page.goto(`${server.url}/#/events/${event.id}`);
  await page.getByRole('heading', { name: event.name, level: 1, exact: true }).waitFor();
  await page.getByText('Live updates: on').waitFor();
}

// A second tab of the browser `page` runs in (the same localStorage and login), with its errors kept.
async function anotherTab(page) {
  const tab = await page.context().newPage();
  tab.errors = [];
  tab.on('pageerror', (e) => tab.errors.push(String(e)));
  tab.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) tab.errors.push(m.text());
  });
  tab.setDefaultTimeout(10_000);
  return tab;
}

// "HH:MM" of the remembered hold's expiry, as the page's clock shows it.
async function heldUntil(page) {
  return page.evaluate(() => {
    const all = JSON.parse(localStorage.getItem('ticketd.holds'));
    const [entry] = Object.values(all);
    const d = new Date(entry.holds[entry.holds.length - 1].expires_at);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  });
}

test('a hold made in one tab shows in another tab, which may release it, resume it and pay, and the first tab hears of each', async () => {
  const event = await server.makeEvent('Two Tabs Night');
  const tess = await server.newUser('Tess');
  await withArtifacts('holds-two-tabs', () => pages, [server], async () => {
    pages.one = await userPage(browser, server, { user: tess });
    pages.two = await anotherTab(pages.one);
    const one = pages.one, two = pages.two;
    await openEvent(one, event);
    await openEvent(two, event);

    // Tab one holds seat 4; tab two shows it without a reload, as the buyer's, with Resume and Release.
    // (The tab in use is brought to the front, as a person would: a hidden tab has no animation frames.)
    await one.bringToFront();
    await seatBox(one, 4).click();
    await one.getByRole('button', { name: 'Hold 1 seat' }).click();
    await one.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    await two.getByText(`You are holding 1 seat until ${await heldUntil(two)}`, { exact: true }).waitFor({ timeout: TAB_MS });
    await two.getByText(/^Floor, row A, seat 4 · .*90/).waitFor();
    await expectSeat(two, 4, 'held by you');
    await two.getByRole('button', { name: 'Resume' }).waitFor();

    // A second hold is never silent: picking more says it would be another hold.
    await two.bringToFront();
    await seatBox(two, 6).click();
    await two.getByText('You already hold seats on this event (see above): holding these makes another hold.').waitFor();
    await two.getByRole('button', { name: 'Hold 1 more seat' }).waitFor();
    await seatBox(two, 6).click();

    // Released in tab two: it goes from both tabs, and tab one says where it went.
    await two.getByRole('button', { name: 'Release' }).click();
    await two.getByText('Released: the seats are available to others again.').waitFor();
    assert.equal(await two.getByText(/^You are holding/).count(), 0);
    await one.getByText('You released these seats in another tab: they are available to others again.').waitFor({ timeout: TAB_MS });
    await one.getByRole('heading', { name: 'Your selection' }).waitFor();
    await expectSeat(one, 4, 'available', TAB_MS);

    // Tab one holds seat 5; tab two, reloaded, finds it (asking the server), resumes it and pays.
    await one.bringToFront();
    await seatBox(one, 5).click();
    await one.getByRole('button', { name: 'Hold 1 seat' }).click();
    await one.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    await two.getByText(/^You are holding 1 seat until \d\d:\d\d$/).waitFor({ timeout: TAB_MS });
    await two.bringToFront();
    await two.reload();
    await two.getByText(`You are holding 1 seat until ${await heldUntil(two)}`, { exact: true }).waitFor({ timeout: PAGE_MS });
    await two.getByRole('button', { name: 'Resume' }).click();
    await two.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(await two.locator('#buy li').allTextContents(), ['Floor, row A, seat 5']);
    assert.equal(await two.getByText(/^You are holding/).count(), 0, 'the hold paid for is not listed again');
    await two.getByLabel('Test card').selectOption('pm_card_visa');
    await two.getByRole('button', { name: /^Pay / }).click();
    await two.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    await one.getByText('These seats were bought in another tab: see My bookings.').waitFor({ timeout: TAB_MS });
    await expectSeat(one, 5, 'sold', TAB_MS);
    assert.equal(await one.evaluate(() => localStorage.getItem('ticketd.holds')), '{}', 'nothing live is remembered');
    assert.deepEqual([...one.errors, ...two.errors], []);
  });
  await pages.one.context().close();
});

test('seats picked before logging in are still picked after it, less those taken meanwhile', async () => {
  const event = await server.makeEvent('Pick First Night');
  const [lou, other] = await Promise.all([server.newUser('Lou'), server.newUser('Other')]);
  await withArtifacts('holds-pick-login', () => pages, [server], async () => {
    pages.v = await userPage(browser, server);
    const v = pages.v;
    await openEvent(v, event);
    for (const n of [2, 3, 7]) await seatBox(v, n).click();
    await expectSeat(v, 7, 'selected');
    await v.getByRole('link', { name: 'Log in to buy' }).click();
    await v.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
    // Someone else takes seat 7 while the visitor logs in.
    assert.equal((await server.call('POST', `/v1/events/${event.id}/holds`, { seat_ids: [6] }, other.token)).status, 201);
    await v.getByLabel('Email').fill(lou.email);
    await v.getByLabel('Password').fill(PASSWORD);
    await v.getByRole('button', { name: 'Log in' }).click();

    await v.getByRole('heading', { name: event.name, level: 1, exact: true }).waitFor();
    await expectSeat(v, 2, 'selected', PAGE_MS);
    await expectSeat(v, 3, 'selected');
    await expectSeat(v, 7, 'held');
    await v.getByText('Taken while you were away: Floor, row A, seat 7. The other seats you picked are still selected.').waitFor();
    assert.equal(await v.evaluate((id) => sessionStorage.getItem(`ticketd.pick.${id}`), event.id), null, 'used once');
    await v.getByRole('button', { name: 'Hold 2 seats' }).click();
    await v.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(await v.locator('#buy li').allTextContents(), ['Floor, row A, seat 2', 'Floor, row A, seat 3']);
    assert.deepEqual(v.errors, []);
  });
  await pages.v.context().close();
});

test('a visitor of a queued event sees the queue and the time until the sale, and no map to hold from', async () => {
  const event = await server.makeEvent('Queue Preview Night', {
    onSaleAt: Date.now() + 3_600_000,
    waitingRoom: { enabled: true, batch_size: 10, release_interval_s: 1, opens_before_s: 7200 },
  });
  const vic = await server.newUser('Vic');
  await withArtifacts('holds-queue-visitor', () => pages, [server], async () => {
    pages.v = await userPage(browser, server);
    const v = pages.v;
    await v.goto(`${server.url}/#/events/${event.id}`);
    await v.getByRole('heading', { name: 'Waiting room: Queue Preview Night', level: 1 }).waitFor();
    await v.getByText('A queue is in force for this sale.').waitFor();
    const timer = v.getByRole('timer');
    const first = await timer.textContent();
    assert.match(first, /^(59:[0-5]\d|1:00:00)$/);
    await v.waitForFunction((was) => document.querySelector('[role=timer]').textContent !== was, first, { timeout: 3000 });
    assert.equal(await v.locator('canvas.seatmap').count(), 0, 'no seat map');
    assert.equal(await v.getByRole('button', { name: /hold/i }).count(), 0, 'nothing to hold with');

    // The way in: log in, and the visitor is in the line.
    await v.getByRole('button', { name: 'Log in to join the queue' }).click();
    await v.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
    await v.getByLabel('Email').fill(vic.email);
    await v.getByLabel('Password').fill(PASSWORD);
    await v.getByRole('button', { name: 'Log in' }).click();
    await v.getByRole('heading', { name: 'Waiting room: Queue Preview Night', level: 1 }).waitFor();
    await v.getByText(/^The sale opens at .*Everyone in line by then gets a random place/).waitFor();
    await v.getByText('drawn when the sale opens').waitFor();
    assert.deepEqual(v.errors, []);
  });
  await pages.v.context().close();
});

test('when the access window ends, the page says so instead of "It is your turn" and offers to join again', async () => {
  const event = await server.makeEvent('Short Turn Night', {
    waitingRoom: { enabled: true, batch_size: 10, release_interval_s: 1, active_window_s: WINDOW_S, opens_before_s: 3600 },
  });
  const ada = await server.newUser('Ada');
  await withArtifacts('holds-access-expired', () => pages, [server], async () => {
    pages.a = await userPage(browser, server, { user: ada });
    const a = pages.a;
    await a.goto(`${server.url}/#/events/${event.id}`);
    await a.getByText(/^It is your turn: choose seats before/).waitFor({ timeout: 15_000 });
    await a.getByRole('heading', { name: 'Short Turn Night', level: 1, exact: true }).waitFor();

    await a.getByText(/^Your time to choose seats ended at \d\d:\d\d\./).waitFor({ timeout: (WINDOW_S + 3) * 1000 });
    assert.equal(await a.getByText(/It is your turn/).count(), 0, '"It is your turn" is gone');
    assert.equal(await a.getByRole('button', { name: 'Find and hold' }).isDisabled(), true);
    await seatBox(a, 2).click();
    assert.equal(await a.locator('#hold-btn').isDisabled(), true, 'no hold without a turn');

    // Joining again puts the buyer at the end of the line (docs/api.md); with a release every second
    // and nobody else waiting, a new turn comes at once and the page offers holds again.
    await a.getByRole('button', { name: 'Join the queue again' }).click();
    await a.getByText(/^It is your turn: choose seats before/).waitFor({ timeout: 15_000 });
    await a.getByRole('heading', { name: 'Short Turn Night', level: 1, exact: true }).waitFor();
    assert.equal(await a.getByText(/^Your time to choose seats ended at/).count(), 0);
    assert.equal(await a.getByRole('button', { name: 'Find and hold' }).isDisabled(), false);
    assert.deepEqual(a.errors, []);
  });
  await pages.a.context().close();
});

test('a place in line whose turn went unused stops asking, and offers to join again', async () => {
  const event = await server.makeEvent('Unused Turn Night', {
    waitingRoom: { enabled: true, batch_size: 10, release_interval_s: 3600, opens_before_s: 3600 },
  });
  const una = await server.newUser('Una');
  await withArtifacts('holds-queue-expired', () => pages, [server], async () => {
    pages.u = await userPage(browser, server, { user: una });
    const u = pages.u;
    // The server's answers are made up here, so that the turn comes and goes within a second and every
    // answer says Retry-After: 1: a page that still polled would ask several times in the wait below.
    // The EXPIRED answer names when the turn ended, so the page can say it.
    const endedAt = new Date(Date.now() - 60_000).toISOString();
    const answer = (status) => ({ status: 200, headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: JSON.stringify({ event_id: event.id, queue_token: 'made-up', status, early: false, draw_pending: false,
        position: status === 'WAITING' ? 2 : null, estimated_wait_s: status === 'WAITING' ? 2 : null,
        ...(status === 'EXPIRED' ? { access_expires_at: endedAt } : {}) }) });
    await u.route(`**/v1/events/${event.id}/queue`, (route) =>
      (route.request().method() === 'POST' ? route.fulfill(answer('WAITING')) : route.continue()));
    let polls = 0;
    await u.route(`**/v1/events/${event.id}/queue/*`, (route) => { polls++; route.fulfill(answer('EXPIRED')); });
    await u.goto(`${server.url}/#/events/${event.id}/queue`);
    const hhmm = await u.evaluate((iso) => new Date(iso).toTimeString().slice(0, 5), endedAt);
    await u.getByText(`Your turn ended at ${hhmm}. Join the line again: you go to the end.`, { exact: true }).waitFor();
    const asked = polls;
    await u.waitForTimeout(3000);
    assert.equal(polls, asked, 'no poll after EXPIRED');
    await u.getByRole('button', { name: 'Join the line again' }).waitFor();
    assert.deepEqual(u.errors, []);
  });
  await pages.u.context().close();
});

// Waits until `user`'s place in the line of `event` says `status`; returns the answer.
async function queueStatus(user, event, token, status) {
  const deadline = Date.now() + ROOM_MS;
  for (;;) {
    const r = await server.call('GET', `/v1/events/${event.id}/queue/${encodeURIComponent(token)}`, undefined, user.token);
    if (r.body.status === status) return r.body;
    if (Date.now() > deadline) throw new Error(`queue status ${r.body.status}, not ${status}, after ${ROOM_MS} ms`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

test('a buyer in line when the sale sells out keeps the place, and is let in without a reload when a hold is released', async () => {
  // Eight seats; seven are sold before the waiting room opens, so one hold sells the event out.
  const event = await server.makeEvent('Sold Out For Now Night', { seatsPerRow: 2 });
  const [early, hal, wes] = await Promise.all([server.newUser('Early'), server.newUser('Hal'), server.newUser('Wes')]);
  await server.buy(early, event, [1, 2, 3, 4, 5, 6]);
  await server.buy(hal, event, [7]);
  const admin = await server.login(ADMIN.email, ADMIN.password);
  const room = await server.call('PUT', `/v1/events/${event.id}/waiting-room`,
    { enabled: true, batch_size: 10, release_interval_s: 1, active_window_s: 600, opens_before_s: 3600 }, admin);
  assert.equal(room.status, 200, JSON.stringify(room.body));

  // Hal is let in first; while Hal's turn is open nobody else is (one seat serves one buyer).
  const halJoin = await server.call('POST', `/v1/events/${event.id}/queue`, {}, hal.token);
  assert.equal(halJoin.status, 201, JSON.stringify(halJoin.body));
  const halTurn = await queueStatus(hal, event, halJoin.body.queue_token, 'ADMITTED');

  await withArtifacts('holds-queue-sold-out', () => pages, [server], async () => {
    pages.w = await userPage(browser, server, { user: wes });
    const w = pages.w;
    await w.goto(`${server.url}/#/events/${event.id}`);
    await w.getByRole('heading', { name: 'Waiting room: Sold Out For Now Night', level: 1 }).waitFor();
    await w.getByText('You are in line.', { exact: true }).waitFor();
    await w.evaluate(() => { window.ticketdSameDocument = true; });  // gone if the page reloads

    // Hal holds the last seat: the event is sold out, and Wes's page says the place is kept.
    const hold = await server.call('POST', `/v1/events/${event.id}/holds`, { seat_ids: [0] }, hal.token,
      { 'x-access-token': halTurn.access_token });
    assert.equal(hold.status, 201, JSON.stringify(hold.body));
    await w.getByText(SOLD_OUT_TEXT, { exact: true }).waitFor({ timeout: ROOM_MS });
    assert.equal(await w.locator('#q-pos').textContent(), '1', 'the place shown is kept');
    assert.notEqual(await w.evaluate((id) => sessionStorage.getItem(`ticketd.queue.${id}`), event.id), null,
      'the queue token is kept');
    await w.waitForRequest((r) => r.url().includes(`/v1/events/${event.id}/queue/`), { timeout: ROOM_MS });
    assert.equal(await w.getByRole('button', { name: /join/i }).count(), 0, 'nothing asks to join again');

    // Hal lets the seat go: the next release admits Wes, whose page goes to the seat map by itself.
    assert.equal((await server.call('DELETE', `/v1/holds/${hold.body.id}`, undefined, hal.token)).status, 204);
    await w.getByText(/^It is your turn: choose seats before/).waitFor({ timeout: ROOM_MS });
    await w.getByRole('heading', { name: 'Sold Out For Now Night', level: 1, exact: true }).waitFor({ timeout: PAGE_MS });
    assert.equal(await w.evaluate(() => window.ticketdSameDocument), true, 'no reload');
    await expectSeat(w, 1, 'available', PAGE_MS);
    await seatBox(w, 1).click();
    await w.getByRole('button', { name: 'Hold 1 seat' }).click();
    await w.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(w.errors, []);
  });
  await pages.w.context().close();
});
