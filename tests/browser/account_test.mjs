// The account flows in a real browser: a newcomer confirms their address from the mailed link, changes
// their password, forgets it, and sets a new one from the reset link. Mail is read from ticketd's mail
// directory, as the person would read it from their inbox. Run by scripts/test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, launchBrowser, userPage, withArtifacts } from './support.mjs';

const VERIFY = /https?:\/\/\S+\/#\/verify-email\/[0-9]+\.[0-9a-f]{32}/;
const RESET = /https?:\/\/\S+\/#\/reset-password\/[0-9]+\.[0-9a-f]{32}/;

let browser;
let server;
const pages = {};

before(async () => {
  server = new Server('accounts', { holdTtlS: 600, mail: true });
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await server?.stop();
});

test('a newcomer confirms the address, changes the password, forgets it and sets a new one by the mailed link', async () => {
  await withArtifacts('account-flows', () => pages, [server], async () => {
    pages.a = await userPage(browser, server);
    const a = pages.a;
    const email = `ona-${Date.now()}@example.test`;
    await a.getByRole('link', { name: 'Register' }).click();
    await a.getByLabel('Name').fill('Ona');
    await a.getByLabel('Email').fill(email);
    await a.getByLabel(/^Password/).fill('first password 111');
    await a.getByRole('button', { name: 'Create account' }).click();
    await a.getByText(`We mailed a link to ${email}`).waitFor();

    // The account page says the address is not confirmed; the mailed link confirms it.
    await a.getByRole('navigation').getByRole('link', { name: 'Account' }).click();
    await a.getByText('not confirmed yet').waitFor();
    await a.goto(await server.mailedLink(email, VERIFY));
    await a.getByText('Your email address is confirmed.').waitFor();
    await a.goto(`${server.url}/#/account`);
    await a.locator('#email-state').getByText('confirmed').waitFor();
    assert.equal(await a.getByRole('button', { name: 'Mail me the link again' }).count(), 0);

    // A wrong current password is said next to its field; the right one changes it.
    await a.getByLabel('Current password').fill('not my password');
    await a.getByLabel(/^New password/).fill('second password 222');
    await a.getByRole('button', { name: 'Change password' }).click();
    await a.locator('#current-err').getByText('That is not your current password.').waitFor();
    assert.equal(await a.getByLabel('Current password').getAttribute('aria-describedby'), 'current-err');
    await a.getByLabel('Current password').fill('first password 111');
    await a.getByRole('button', { name: 'Change password' }).click();
    await a.getByText('Your password is changed.').waitFor();

    // Logged out, Ona has forgotten it: the login page leads to a reset link by mail.
    await a.getByRole('button', { name: 'Log out', exact: true }).click();
    await a.getByRole('navigation').getByRole('link', { name: 'Log in' }).click();
    await a.getByRole('link', { name: 'Forgot your password?' }).click();
    await a.getByRole('heading', { name: 'Forgot your password?' }).waitFor();  // the log-in form has an Email too
    await a.getByLabel('Email').fill(email);
    await a.getByRole('button', { name: 'Mail me a link' }).click();
    await a.getByText(`If an account has ${email}, a link to set a new password is on its way.`).waitFor();
    const reset = await server.mailedLink(email, RESET);
    await a.goto(reset);
    await a.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await a.getByLabel(/^New password/).fill('short');
    await a.getByRole('button', { name: 'Set password' }).click();
    await a.locator('#new-err').getByText('At least 8 characters.').waitFor();
    await a.getByLabel(/^New password/).fill('third password 333');
    await a.getByRole('button', { name: 'Set password' }).click();
    await a.getByText('Your password is set, and every device was logged out.').waitFor();
    await a.getByRole('heading', { name: 'Log in' }).waitFor();
    await a.getByLabel('Email').fill(email);
    await a.getByLabel('Password').fill('third password 333');
    await a.getByRole('button', { name: 'Log in' }).click();
    await a.getByText('Signed in as').waitFor();

    // The link worked once.
    await a.goto(reset);
    await a.getByLabel(/^New password/).fill('fourth password 444');
    await a.getByRole('button', { name: 'Set password' }).click();
    await a.getByText('This link was used already or has expired.').waitFor();
  });
});

test('the sign-up form says every problem at once, next to its field, in plain words', async () => {
  await withArtifacts('register-errors', () => pages, [server], async () => {
    pages.r = await userPage(browser, server);
    const r = pages.r;
    await r.getByRole('link', { name: 'Register' }).click();
    await r.getByRole('button', { name: 'Create account' }).click();
    // All three at once, each tied to its field for screen readers, and focus on the first.
    for (const [label, text] of [['Name', 'Enter your name.'], ['Email', 'Enter your email address.'],
      [/^Password/, 'At least 8 characters.']]) {
      const input = r.getByLabel(label);
      const described = await input.getAttribute('aria-describedby');
      assert.equal(await r.locator(`#${described}`).textContent(), text);
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
    }
    assert.equal(await r.evaluate(() => document.activeElement.name), 'name');

    // A list of addresses is caught by the page itself, in plain words.
    await r.getByLabel('Name').fill('Rui');
    await r.getByLabel('Email').fill('x,y@example.test');
    await r.getByLabel(/^Password/).fill('a long enough password');
    await r.getByRole('button', { name: 'Create account' }).click();
    await r.locator('#reg-email-err').getByText('Enter an email address, like ann@example.com.').waitFor();
    assert.equal(await r.getByLabel('Name').getAttribute('aria-invalid'), null);

    // What only the server can tell (a local part over 64 bytes) is put next to its field too.
    await r.getByLabel('Email').fill(`${'x'.repeat(65)}@example.test`);
    await r.getByLabel(/^Password/).fill('a long enough password');
    await r.getByRole('button', { name: 'Create account' }).click();
    await r.locator('#reg-email-err').getByText('This is not an address we can send to').waitFor();
    assert.equal(await r.locator('#reg-name-err').textContent(), '');
    assert.equal(await r.getByLabel('Name').getAttribute('aria-invalid'), null);
    assert.equal(await r.locator('#reg-msg').textContent(), '', 'no raw API text anywhere');

    // A taken address says what to do.
    const taken = await server.newUser('Taken');
    await r.getByLabel('Email').fill(taken.email);
    await r.getByRole('button', { name: 'Create account' }).click();
    await r.locator('#reg-email-err').getByText('An account with this email exists already: log in instead.').waitFor();
  });
});

test('the log-in form says what is missing next to each field, and a wrong password for the whole form', async () => {
  const lee = await server.newUser('Lee');
  await withArtifacts('login-errors', () => pages, [server], async () => {
    pages.l = await userPage(browser, server);
    const l = pages.l;
    await l.getByRole('navigation').getByRole('link', { name: 'Log in' }).click();
    await l.getByRole('button', { name: 'Log in' }).click();
    for (const [label, text] of [['Email', 'Enter your email address.'], ['Password', 'Enter your password.']]) {
      const input = l.getByLabel(label, { exact: true });
      assert.equal(await l.locator(`#${await input.getAttribute('aria-describedby')}`).textContent(), text);
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
    }
    assert.equal(await l.evaluate(() => document.activeElement.name), 'email');
    await l.getByLabel('Email', { exact: true }).fill('lee at example');
    await l.getByLabel('Password', { exact: true }).fill('x');
    await l.getByRole('button', { name: 'Log in' }).click();
    await l.locator('#login-email-err').getByText('Enter an email address, like ann@example.com.').waitFor();
    assert.equal(await l.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), null);
    await l.getByLabel('Email', { exact: true }).fill(lee.email);
    await l.getByLabel('Password', { exact: true }).fill('not the password');
    await l.getByRole('button', { name: 'Log in' }).click();
    await l.getByRole('alert').getByText('That email and password do not match an account.').waitFor();
    assert.equal(await l.getByLabel('Email', { exact: true }).getAttribute('aria-invalid'), null);
    assert.deepEqual(l.errors, []);
  });
  await pages.l.context().close();
});
