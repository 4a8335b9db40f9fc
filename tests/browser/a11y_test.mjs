// Every page of the web app, the console and the door scanner, checked by axe-core (the engine behind
// most accessibility checkers) for WCAG 2.1 A/AA and best-practice rules: none may have a "serious" or
// "critical" violation (support.mjs, axeProblems).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, PASSWORD, Server, launchBrowser, userPage, withArtifacts, axeProblems as audit } from './support.mjs';

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('a11y', { holdTtlS: 600 });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

async function visit(page, url, heading) {
  await page.goto(url);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

test('the buyer\'s pages have no serious or critical accessibility violations', async () => {
  const event = await server.makeEvent('Axe Night', { flags: { accessible: [1], companion: [2] } });
  const queued = await server.makeEvent('Axe Queue Night', { onSaleAt: Date.now() + 3_600_000,
    waitingRoom: { enabled: true, opens_before_s: 7200 } });
  const ida = await server.newUser('Ida');
  const booking = await server.buy(ida, event, [0, 1]);
  const tickets = await server.call('GET', `/v1/bookings/${booking.id}/tickets`, undefined, ida.token);
  const problems = [];
  await withArtifacts('a11y-buyer', () => pages, [server], async () => {
    pages.anon = await userPage(browser, server);
    const anon = pages.anon;
    await visit(anon, `${server.url}/#/`, 'Events');
    await anon.getByRole('link', { name: 'Axe Night' }).waitFor();
    problems.push(...await audit(anon, 'events list'));
    await visit(anon, `${server.url}/#/login`, 'Log in');
    problems.push(...await audit(anon, 'log in'));
    await anon.getByRole('button', { name: 'Log in' }).click();
    await anon.locator('#login-email-err').getByText('Enter your email address.').waitFor();
    problems.push(...await audit(anon, 'log in with errors'));
    await visit(anon, `${server.url}/#/register`, 'Register');
    await anon.getByRole('button', { name: 'Create account' }).click();
    await anon.locator('#reg-name-err').getByText('Enter your name.').waitFor();
    problems.push(...await audit(anon, 'register with errors'));
    await visit(anon, `${server.url}/#/forgot-password`, 'Forgot your password?');
    problems.push(...await audit(anon, 'forgot password'));
    await visit(anon, `${server.url}/#/events/${queued.id}`, 'Waiting room: Axe Queue Night');
    await anon.getByRole('timer').waitFor();
    problems.push(...await audit(anon, 'waiting room (visitor)'));

    pages.ida = await userPage(browser, server, { user: ida });
    const p = pages.ida;
    await visit(p, `${server.url}/#/events/${event.id}`, 'Axe Night');
    await p.getByText('Live updates: on').waitFor();
    problems.push(...await audit(p, 'event page'));
    await p.locator('#seat-list [role=option]').nth(4).click();
    await p.getByRole('button', { name: 'Hold 1 seat' }).click();
    await p.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    problems.push(...await audit(p, 'event page with a hold'));
    pages.tab = await p.context().newPage();  // another tab of the same browser lists that hold
    await visit(pages.tab, `${server.url}/#/events/${event.id}`, 'Axe Night');
    await pages.tab.getByRole('button', { name: 'Resume' }).waitFor();
    problems.push(...await audit(pages.tab, 'event page with a hold from another tab'));
    await pages.tab.close();
    delete pages.tab;
    await visit(p, `${server.url}/#/bookings`, 'My bookings');
    await p.getByRole('button', { name: /^Cancel booking/ }).waitFor();
    problems.push(...await audit(p, 'my bookings'));
    await visit(p, `${server.url}/#/bookings/${booking.id}`, 'Booking confirmed');
    await p.getByRole('link', { name: /^Show ticket/ }).first().waitFor();
    problems.push(...await audit(p, 'booking confirmation'));
    await visit(p, `${server.url}/#/tickets`, 'My tickets');
    problems.push(...await audit(p, 'my tickets'));
    await visit(p, `${server.url}/#/tickets/${tickets.body.tickets[0].id}`, /Axe Night|Ticket/);
    problems.push(...await audit(p, 'ticket page'));
    await visit(p, `${server.url}/#/account`, 'Account');
    problems.push(...await audit(p, 'account'));
  });
  await pages.anon.context().close();
  await pages.ida.context().close();
  assert.deepEqual(problems, []);
});

test('the console and the door scanner have no serious or critical accessibility violations', async () => {
  const olga = await server.newUser('Olga');
  const org = await server.call('POST', '/v1/organizations', { name: 'Axe Presents' }, olga.token);
  assert.equal(org.status, 201);
  // An event with an order, for the dashboard (the administrator's console, who sees every event).
  const sold = await server.makeEvent('Axe Console Night');
  await server.buy(olga, sold, [3, 4]);
  const admin = await server.login(ADMIN.email, ADMIN.password);
  assert.equal((await server.call('POST', '/v1/organizations', { name: 'Axe Admin' }, admin)).status, 201);
  const problems = [];
  await withArtifacts('a11y-console', () => pages, [server], async () => {
    pages.o = await userPage(browser, server);
    const o = pages.o;
    await visit(o, `${server.url}/console`, 'Organizer console');
    problems.push(...await audit(o, 'console log in'));
    await o.getByLabel('Email').fill(olga.email);
    await o.getByLabel('Password').fill(PASSWORD);
    await o.getByRole('button', { name: 'Log in' }).click();
    await o.getByRole('navigation', { name: 'Console' }).waitFor();
    await o.locator('main h1').first().waitFor();
    problems.push(...await audit(o, 'console events'));
    await o.goto(`${server.url}/console#/venues/new`);
    await o.getByRole('heading', { name: 'New venue' }).waitFor();
    problems.push(...await audit(o, 'console venue designer'));
    await o.goto(`${server.url}/console#/events/new`);
    await o.locator('main h1').first().waitFor();
    problems.push(...await audit(o, 'console new event'));
    await o.goto(`${server.url}/console#/organization`);
    await o.locator('main h1').first().waitFor();
    problems.push(...await audit(o, 'console organization'));

    pages.s = await userPage(browser, server);
    const s = pages.s;
    await visit(s, `${server.url}/scan`, 'Door scanner');
    problems.push(...await audit(s, 'scanner log in'));
    await s.getByLabel('Email').fill(ADMIN.email);
    await s.getByLabel('Password').fill(ADMIN.password);
    await s.getByRole('button', { name: 'Log in' }).click();
    await s.getByRole('button', { name: 'Start scanning' }).waitFor();
    problems.push(...await audit(s, 'scanner set-up'));
    await s.goto(`${server.url}/console#/events/${sold.id}`);  // logged in as the administrator here
    await s.getByRole('heading', { name: 'Axe Console Night', level: 1 }).waitFor();
    await s.getByRole('button', { name: /^Refund seat/ }).first().waitFor();
    problems.push(...await audit(s, 'console dashboard with an order'));
  });
  await pages.o.context().close();
  await pages.s.context().close();
  assert.deepEqual(problems, []);
});
