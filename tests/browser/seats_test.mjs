// The buyer's seat map and picker for people who cannot rely on colour, a mouse or sight: accessible
// and companion seats are marked, said and filterable; your held seats look unlike other people's; and
// a purchase works from the events list to the confirmation with the keyboard alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, launchBrowser, userPage, withArtifacts, seatBox, expectSeat } from './support.mjs';

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('seats', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

async function openEvent(page, event) {
  await page.goto(`${server.url}/#/events/${event.id}`);
  await page.getByRole('heading', { name: event.name }).waitFor();
  await page.getByText('Live updates: on').waitFor();
}

const optionNames = (page) => page.locator('#seat-list').getByRole('option').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));

// What is drawn inside a seat's square on the map: how many pixels are dark (the hatching of someone
// else's hold), white (a check mark or a cross) or of `fill` (the seat's colour).
async function inkIn(page, seatId) {
  return page.evaluate((id) => {
    const m = window.ticketdSeatMap;
    const c = m.centerOf(id), half = (m.scale * 0.8) / 2 - 1, dpr = m.dpr;
    const img = m.ctx.getImageData((c.x - half) * dpr, (c.y - half) * dpr, 2 * half * dpr, 2 * half * dpr).data;
    let dark = 0, white = 0;
    for (let i = 0; i < img.length; i += 4) {
      if (img[i] < 90 && img[i + 1] < 70 && img[i + 3] > 200) dark++;
      if (img[i] > 240 && img[i + 1] > 240 && img[i + 2] > 240) white++;
    }
    return { dark, white };
  }, seatId);
}

test('accessible and companion seats are marked, said and filtered; your held seats look unlike others\'', async () => {
  // Floor row B (seat ids 10-19): seats 1 and 2 accessible, 3 a companion seat.
  const event = await server.makeEvent('Access Night', { flags: { accessible: [1, 2], companion: [3] } });
  const [ada, other] = await Promise.all([server.newUser('Ada'), server.newUser('Other')]);
  await withArtifacts('seat-flags', () => pages, [server], async () => {
    pages.a = await userPage(browser, server, { user: ada });
    const a = pages.a;
    await openEvent(a, event);
    const legend = await a.locator('#legend').textContent();
    for (const text of ['Yours (check mark)', 'Held by someone else (striped)', 'Sold (cross)',
      'Accessible seat (wheelchair)', 'Companion seat (round)']) assert.ok(legend.includes(text), `legend has ${text}`);

    // Only accessible seats: the picker jumps to the one row that has them, and the map fades the rest.
    await a.getByLabel('Accessible seats').check();
    assert.equal(await a.locator('#seats-legend').textContent(), 'Floor, row B');
    assert.deepEqual((await optionNames(a)).map((n) => n.replace(/, [^,]*90[^,]*,/, ', PRICE,')), [
      'Seat 1, row B, Floor, PRICE, accessible, available', 'Seat 2, row B, Floor, PRICE, accessible, available']);
    assert.deepEqual(await a.locator('#pick-row option').allTextContents(), ['Row B']);
    assert.deepEqual(await a.evaluate(() => [0, 10, 12].map((id) => window.ticketdSeatMap.isFaded(id))), [true, false, true]);
    await a.getByLabel('Companion seats').check();
    assert.equal((await optionNames(a)).length, 3);
    assert.match((await optionNames(a))[2], /^Seat 3, row B, Floor, .*, companion, available$/);
    await a.getByLabel('Accessible seats').uncheck();
    await a.getByLabel('Companion seats').uncheck();
    assert.equal(await a.locator('#seats-legend').textContent(), 'Floor, row A');
    assert.equal((await optionNames(a)).length, 10);

    // Someone else holds seat 1 of row A; Ada holds seat 2. The list says which is whose, and the map
    // marks them differently: hatching for someone else's, a white check for hers.
    assert.equal((await server.call('POST', `/v1/events/${event.id}/holds`, { seat_ids: [0] }, other.token)).status, 201);
    await expectSeat(a, 1, 'held');
    await seatBox(a, 2).click();
    await a.getByRole('button', { name: 'Hold 1 seat' }).click();
    await a.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    await expectSeat(a, 2, 'held by you');
    assert.deepEqual(await a.evaluate(() => [0, 1, 2].map((id) => window.ticketdSeatMap.stateOf(id))), ['held', 'mine', 'available']);
    await a.waitForTimeout(100);  // the next animation frame has drawn them
    const [theirs, hers, free] = [await inkIn(a, 0), await inkIn(a, 1), await inkIn(a, 2)];
    assert.ok(theirs.dark > 10 && theirs.white === 0, `someone else's hold is hatched: ${JSON.stringify(theirs)}`);
    assert.ok(hers.white > 10 && hers.dark === 0, `Ada's hold has a white check: ${JSON.stringify(hers)}`);
    assert.ok(free.white === 0 && free.dark === 0, `an available seat is plain: ${JSON.stringify(free)}`);
    assert.deepEqual(a.errors, []);
  });
  await pages.a.context().close();
});

// Presses Tab until `isThere` (run in the page) is true; fails after `max` presses.
async function tabTo(page, isThere, what, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(isThere)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what}`);
}

test('a keyboard-only purchase: from the events list to the booking confirmation without the mouse', async () => {
  const event = await server.makeEvent(`Keys Only ${Date.now()}`);
  const kai = await server.newUser('Kai');
  await withArtifacts('keyboard-purchase', () => pages, [server], async () => {
    pages.k = await userPage(browser, server, { user: kai });
    const k = pages.k;
    await k.goto(`${server.url}/#/?q=${encodeURIComponent(event.name)}`);
    await k.getByRole('link', { name: event.name }).waitFor();
    await tabTo(k, () => document.activeElement.matches('#events a'), 'the event link');
    await k.keyboard.press('Enter');
    await k.getByRole('heading', { name: event.name }).waitFor();
    await k.getByText('Live updates: on').waitFor();

    // One Tab stop reaches the seats; the arrows pick two neighbours.
    await tabTo(k, () => Boolean(document.activeElement.closest('#seat-list')), 'the seats');
    await k.keyboard.press('End');
    await k.keyboard.press('ArrowLeft');
    await k.keyboard.press('Space');
    await k.keyboard.press('ArrowRight');
    await k.keyboard.press('Enter');
    await expectSeat(k, 9, 'selected');
    await expectSeat(k, 10, 'selected');

    await tabTo(k, () => document.activeElement.id === 'hold-btn', 'Hold 2 seats');
    await k.keyboard.press('Enter');
    await k.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.equal(await k.evaluate(() => document.activeElement.textContent), 'Your seats are held', 'focus stays in the card');
    await tabTo(k, () => document.activeElement.id === 'pay-btn', 'Pay', 5);
    await k.keyboard.press('Enter');
    await k.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    await k.getByRole('listitem').filter({ hasText: /^Floor, row A, seat 9$/ }).waitFor();
    await k.getByRole('listitem').filter({ hasText: /^Floor, row A, seat 10$/ }).waitFor();
    assert.deepEqual(k.errors, []);
  });
  await pages.k.context().close();
});
