// The web app on phones: no page scrolls sideways on a 320 px screen, and on a 390x844 touch screen a
// buyer pinches the seat map to zoom in, taps a seat, holds it from the bar at the bottom and pays; a
// visitor who is not logged in has the bar too, and its button leads to logging in with the seats kept.
// Touches are real touch input (CDP Input.dispatchTouchEvent), which Chromium turns into Pointer Events.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, Server, launchBrowser, userPage, withArtifacts, expectSeat, seatBox } from './support.mjs';

const NARROW_PX = 320;

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('phone', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

test('no page scrolls sideways on a 320 px wide phone', async () => {
  const event = await server.makeEvent('A Rather Long Event Name For A Narrow Phone', { flags: { accessible: [1], companion: [2] } });
  const una = await server.newUser('Una');
  const booking = await server.buy(una, event, [4, 5]);
  const ticket = (await server.call('GET', `/v1/bookings/${booking.id}/tickets`, undefined, una.token)).body.tickets[0];
  await withArtifacts('narrow', () => pages, [server], async () => {
    const context = await browser.newContext({ viewport: { width: NARROW_PX, height: 640 }, isMobile: true, hasTouch: true });
    await context.addInitScript(([token, user]) => {
      localStorage.setItem('ticketd.token', token);
      localStorage.setItem('ticketd.user', JSON.stringify(user));
    }, [una.token, { email: una.email, name: una.name }]);
    pages.n = await context.newPage();
    const n = pages.n;
    const wide = [];
    for (const [path, heading] of [['/#/', 'Events'], [`/#/events/${event.id}`, event.name], ['/#/bookings', 'My bookings'],
      [`/#/bookings/${booking.id}`, 'Booking confirmed'], ['/#/tickets', 'My tickets'], [`/#/tickets/${ticket.id}`, null],
      ['/#/account', 'Account'], ['/#/register', 'Register'], ['/console', null], ['/scan', 'Door scanner']]) {
      await n.goto(server.url + path);
      if (heading) await n.getByRole('heading', { name: heading, level: 1 }).waitFor();
      else await n.locator('main h1').first().waitFor();
      if (path === '/#/bookings') await n.getByRole('button', { name: /^Cancel booking/ }).waitFor();
      const width = await n.evaluate(() => document.documentElement.scrollWidth);
      if (width > NARROW_PX) wide.push(`${path} is ${width} px wide`);
    }
    assert.deepEqual(wide, []);
    // The Cancel button of My bookings is whole on screen, not clipped.
    await n.goto(`${server.url}/#/bookings`);
    const box = await n.getByRole('button', { name: /^Cancel booking/ }).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= NARROW_PX, `Cancel spans ${box.x}..${box.x + box.width}`);
  });
  await pages.n.context().close();
});

// Two fingers from `from` apart to `to` apart, about the point (x, y) of the page, in `steps` moves.
async function pinch(cdp, x, y, from, to, steps = 8) {
  const points = (d) => [{ x: x - d / 2, y, id: 0 }, { x: x + d / 2, y, id: 1 }];
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: points(from) });
  for (let i = 1; i <= steps; i++) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: points(from + ((to - from) * i) / steps) });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

// One finger from (x, y) moved by dy, in small steps as a finger moves.
async function swipe(cdp, x, y, dy, steps = 10) {
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y, id: 0 }] });
  for (let i = 1; i <= steps; i++) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: y + (dy * i) / steps, id: 0 }] });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

test('on a touch phone a buyer pinches the map to zoom in, taps a seat, holds it from the bottom bar and pays', async () => {
  const event = await server.makeEvent('Pinch Night');
  const pia = await server.newUser('Pia');
  await withArtifacts('pinch', () => pages, [server], async () => {
    pages.p = await userPage(browser, server, { user: pia, phone: true });
    const p = pages.p;
    await p.goto(`${server.url}/#/events/${event.id}`);
    await p.getByText('Live updates: on').waitFor();
    const canvas = p.locator('canvas.seatmap');
    await canvas.scrollIntoViewIfNeeded();
    const touchAction = () => canvas.evaluate((c) => getComputedStyle(c).touchAction);
    assert.equal(await touchAction(), 'pan-x pan-y', 'the whole map leaves one finger to the page');

    // One finger dragged up over the whole map scrolls the page, and leaves the map where it was.
    const cdp = await p.context().newCDPSession(p);
    const start = await canvas.boundingBox();
    const scrolled = await p.evaluate(() => window.scrollY);
    const mapAt = await p.evaluate(() => window.ticketdSeatMap.oy);
    await swipe(cdp, start.x + start.width / 2, start.y + start.height * 0.8, -200);
    await p.waitForFunction((y) => window.scrollY > y + 50, scrolled);
    assert.equal(await p.evaluate(() => window.ticketdSeatMap.oy), mapAt, 'the map did not pan');

    // Pinch about seat 6 of Floor row A (id 5) to twice the scale.
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    const before = await p.evaluate(() => ({ scale: window.ticketdSeatMap.scale, at: window.ticketdSeatMap.centerOf(5) }));
    await pinch(cdp, box.x + before.at.x, box.y + before.at.y, 60, 120);
    const scale = await p.evaluate(() => window.ticketdSeatMap.scale);
    assert.ok(scale > before.scale * 1.8 && scale < before.scale * 2.2, `pinch zoomed ${before.scale} -> ${scale}`);
    await p.waitForTimeout(50);  // the next frame sets the zoomed-in touch-action
    assert.equal(await touchAction(), 'none', 'zoomed in, the map takes every finger');
    // The seat under the fingers stayed under them.
    const after = await p.evaluate(() => window.ticketdSeatMap.centerOf(5));
    assert.ok(Math.hypot(after.x - before.at.x, after.y - before.at.y) < 8, 'the pinch zooms about its midpoint');

    // A tap picks it; the bar at the bottom says so and holds it.
    await p.touchscreen.tap(box.x + after.x, box.y + after.y);
    await expectSeat(p, 6, 'selected');
    const bar = p.getByRole('region', { name: 'Selection summary' });
    await bar.getByText('1 seat', { exact: true }).waitFor();
    const barBox = await bar.boundingBox();
    assert.ok(Math.abs(barBox.y + barBox.height - 844) < 2, 'the bar sits at the bottom of the screen');
    await bar.getByRole('button', { name: 'Hold 1 seat' }).tap();
    await p.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    await bar.getByRole('button', { name: 'Go to payment' }).tap();
    await p.getByRole('button', { name: /^Pay / }).tap();
    await p.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    await p.getByRole('listitem').filter({ hasText: /^Floor, row A, seat 6$/ }).waitFor();
    assert.deepEqual(p.errors, []);
  });
  await pages.p.context().close();
});

test('on a phone a visitor who picks seats sees the bottom bar, whose button logs in and keeps the seats', async () => {
  const event = await server.makeEvent('Visitor Bar Night');
  const vera = await server.newUser('Vera');
  await withArtifacts('visitor-bar', () => pages, [server], async () => {
    pages.v = await userPage(browser, server, { phone: true });
    const v = pages.v;
    await v.goto(`${server.url}/#/events/${event.id}`);
    await v.getByText('Live updates: on').waitFor();
    const bar = v.getByRole('region', { name: 'Selection summary' });
    assert.equal(await bar.isVisible(), false, 'no bar before a seat is picked');
    await seatBox(v, 3).tap();
    await seatBox(v, 4).tap();
    await expectSeat(v, 4, 'selected');
    await bar.getByText('2 seats', { exact: true }).waitFor();
    const barBox = await bar.boundingBox();
    assert.ok(Math.abs(barBox.y + barBox.height - 844) < 2, 'the bar sits at the bottom of the screen');
    await bar.getByRole('button', { name: 'Log in to hold these seats' }).tap();
    await v.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
    await v.getByLabel('Email').fill(vera.email);
    await v.getByLabel('Password').fill(PASSWORD);
    await v.getByRole('button', { name: 'Log in' }).tap();
    await v.getByRole('heading', { name: event.name, level: 1, exact: true }).waitFor();
    await expectSeat(v, 3, 'selected', 5000);
    await expectSeat(v, 4, 'selected');
    await bar.getByRole('button', { name: 'Hold 2 seats' }).tap();
    await v.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    assert.deepEqual(v.errors, []);
  });
  await pages.v.context().close();
});
