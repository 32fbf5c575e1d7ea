// Drives the developer console in a real browser (Debian's chromium through
// playwright-core), for test/e2e/console_test.go:
//
//   node console-flow.mjs PHASE ISSUER SCREENSHOT_DIR < input.json
//
// input.json: {"email", "password", "client_id"?, "name"?}. Each phase signs
// in through orgauth's login page, does its part, checks every page with
// axe-core, and prints one JSON object: what it saw, the axe violations
// (serious and critical), console messages (CSP violations show up there)
// and any request that left the issuer's origin.
//
// Phases:
//   create    the list, the create form (a validation error beside its field),
//             an M2M client created and its secret read from the dialog once
//   readonly  another member sees the client read-only
//   rotate    the creator rotates the secret with a one-hour grace period
//   delete    the creator deletes the client after confirming, and signs out
//   plan      on a plan without M2M, the form says which plan it needs
//   org       a member of a second organization: signed in without a consent
//             page for the console, sees only their organization's
//             credentials, consents to a colleague's SPA (input.authorize_url,
//             input.callback) and finds it under Consents, then creates an M2M
//             client from the scopes their role may give
import axe from 'axe-core';
import { chromium } from 'playwright-core';

const [phase, issuer, shots] = process.argv.slice(2);
let raw = '';
for await (const chunk of process.stdin) raw += chunk;
const input = JSON.parse(raw);

const out = { phase, console: [], foreign: [], axe: {}, screenshots: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function check(page, name) {
  await page.evaluate(axe.source);
  const res = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }));
  out.axe[name] = res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// Full pages, except with a modal dialog open: its backdrop covers the
// viewport only.
async function shoot(page, name, fullPage = true) {
  const file = `${shots}/${name}.png`;
  await page.screenshot({ path: file, fullPage });
  out.screenshots.push(file);
}

const pages = [];
async function newPage(width, { clock = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: issuer });
  const page = await context.newPage();
  pages.push(page);
  // A clock the test can move forward, to expire the access token.
  if (clock) await page.clock.install();
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url() === `${issuer}/oauth/token`) {
      const grant = new URLSearchParams(r.postData() ?? '').get('grant_type');
      out.grants = [...(out.grants ?? []), grant];
    }
  });
  page.setDefaultTimeout(15000);
  page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.console.push(`uncaught: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    // The application's callback, where orgauth sends the browser back.
    if (input.callback && r.url().startsWith(input.callback)) return;
    if (u.origin !== issuer && u.protocol !== 'data:') out.foreign.push(r.url());
  });
  return page;
}

// Opens the console, which sends the browser to orgauth's login page; signs
// in with the keyboard and lands on the credentials list.
async function signIn(page) {
  await page.goto(`${issuer}/console/`);
  await page.getByLabel('Email').fill(input.email);
  await page.getByLabel('Password').fill(input.password);
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL(`${issuer}/console/credentials`).catch(async (err) => {
    // The console is the stack: a consent page for it is a bug.
    if ((await page.title()) === 'Allow access?') throw new Error('the console asked for consent for itself');
    throw err;
  });
  await page.getByRole('table').or(page.getByText('No credentials yet')).first().waitFor();
}

async function openDetails(page) {
  await page.getByRole('link', { name: input.name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: input.name }).waitFor();
}

try {
  if (phase === 'create') {
    // Phone width first: list and create form.
    const phone = await newPage(390);
    await signIn(phone);
    await shoot(phone, 'list-390');
    await phone.getByRole('link', { name: 'Create new' }).click();
    await phone.getByRole('radio', { name: 'M2M OAuth Client' }).waitFor();
    await shoot(phone, 'create-390');

    const page = await newPage(1280);
    await signIn(page);
    out.user = (await page.locator('.who').textContent()).trim();
    out.listRows = await page.locator('tbody tr').count();
    out.youRows = await page.getByRole('cell', { name: 'you', exact: true }).count();
    await shoot(page, 'list-1280');
    await check(page, 'list');

    // The form: keyboard only, from the Create new link.
    await page.getByRole('link', { name: 'Create new' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Create a credential' }).waitFor();
    out.m2mEnabled = await page.getByRole('radio', { name: 'M2M OAuth Client' }).isEnabled();
    await shoot(page, 'create-1280');
    await check(page, 'create');

    // A bad callback URL: the API's message shows beside that field.
    await page.getByLabel('Name').fill('Browser SPA');
    await page.getByLabel('Callback URLs').fill('https://shop.example.com/cb\nhttps://shop.example.com/cb#fragment');
    await page.getByRole('button', { name: 'Create' }).click();
    const cb = page.getByLabel('Callback URLs');
    await page.locator('[data-field="callback_urls"] .field-error:not([hidden])').waitFor();
    out.fieldError = (await page.locator('[data-field="callback_urls"] .field-error').textContent()).trim();
    out.fieldInvalid = await cb.getAttribute('aria-invalid');
    out.fieldFocused = await cb.evaluate((el) => el === document.activeElement);
    await shoot(page, 'create-error-1280');
    await check(page, 'create-error');

    // Now an M2M client: choose it with the keyboard.
    await page.getByRole('radio', { name: 'M2M OAuth Client' }).check();
    await page.getByLabel('Name').fill(input.name);
    out.urlFieldsHidden = !(await page.getByLabel('Callback URLs').isVisible());
    await page.getByLabel('Access token lifetime (seconds)').fill('900');
    // The registered scopes are offered; choosing one fills the field.
    await page.getByRole('checkbox', { name: /read:demo/ }).check();
    out.scopes = await page.getByLabel('Scopes', { exact: true }).inputValue();
    await page.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    out.secret = await dialog.getByRole('textbox', { name: 'Client secret' }).inputValue();
    out.clientId = await dialog.getByRole('textbox', { name: 'Client ID' }).inputValue();
    out.dialogWarning = (await dialog.locator('.warning').textContent()).trim();
    await dialog.getByRole('button', { name: 'Copy client secret' }).click();
    await dialog.getByText('Copied').waitFor();
    out.clipboard = await page.evaluate(() => navigator.clipboard.readText());
    await shoot(page, 'secret-1280', false);
    await check(page, 'secret-dialog');
    await dialog.getByRole('button', { name: 'I have stored the secret' }).click();
    await page.getByRole('heading', { level: 1, name: input.name }).waitFor();
    out.secretGone = (await page.content()).includes(out.secret) === false;
    out.flash = (await page.locator('.flash').textContent()).trim();
    await shoot(page, 'details-1280');
    await check(page, 'details-owner');

    // The secret dialog at phone width: a second client, created there.
    await phone.getByLabel('Name').waitFor();
    await phone.getByRole('radio', { name: 'M2M OAuth Client' }).check();
    await phone.getByLabel('Name').fill(`${input.name} (phone)`);
    await phone.getByRole('button', { name: 'Create' }).click();
    await phone.getByRole('dialog').waitFor();
    out.phoneSecret = await phone.getByRole('dialog').getByRole('textbox', { name: 'Client secret' }).inputValue();
    out.phoneClientId = await phone.getByRole('dialog').getByRole('textbox', { name: 'Client ID' }).inputValue();
    await shoot(phone, 'secret-390', false);
    await phone.getByRole('button', { name: 'I have stored the secret' }).click();
    await phone.getByRole('heading', { level: 1, name: `${input.name} (phone)` }).waitFor();
    await shoot(phone, 'details-390');
  } else if (phase === 'readonly') {
    const page = await newPage(1280, { clock: true });
    await signIn(page);
    // Two hours later the access token has expired: the next call renews it
    // with the refresh token (which rotates), and so does the one after.
    await page.clock.fastForward('02:00:00');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: input.name, exact: true }) });
    out.createdBy = (await row.locator('td[data-label="Created by"]').textContent()).trim();
    await openDetails(page);
    out.note = (await page.locator('.note').textContent()).trim();
    out.buttons = await page.getByRole('button').allTextContents();
    out.textboxes = await page.getByRole('textbox').count();
    await shoot(page, 'details-readonly-1280');
    await check(page, 'details-readonly');
    await page.clock.fastForward('02:00:00');
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Credentials' }).click();
    await page.getByRole('link', { name: input.name, exact: true }).waitFor();
  } else if (phase === 'rotate') {
    const page = await newPage(1280);
    await signIn(page);
    await openDetails(page);
    // A lifetime out of range: the API's message beside the field.
    await page.getByLabel('Access token lifetime (seconds)').fill('5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('[data-field="access_token_lifetime"] .field-error:not([hidden])').waitFor();
    out.fieldError = (await page.locator('[data-field="access_token_lifetime"] .field-error').textContent()).trim();
    await page.getByLabel('Access token lifetime (seconds)').fill('1200');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    out.saved = true;

    await page.getByLabel('Grace period for the old secret').selectOption('3600');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    out.secret = await dialog.getByRole('textbox', { name: 'Client secret' }).inputValue();
    out.grace = (await dialog.locator('.grace').textContent()).trim();
    out.graceISO = await dialog.locator('.grace time').getAttribute('datetime');
    await shoot(page, 'rotate-1280', false);
    await check(page, 'rotate-dialog');
    await dialog.getByRole('button', { name: 'I have stored the secret' }).click();
    await page.getByText('The secret was rotated.').waitFor();
  } else if (phase === 'delete') {
    const page = await newPage(390);
    await signIn(page);
    await openDetails(page);
    await page.getByRole('button', { name: 'Delete credential' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    await shoot(page, 'delete-390', false);
    await check(page, 'delete-dialog');
    // Cancel first: nothing happens.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete credential' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${issuer}/console/credentials`);
    out.flash = (await page.locator('.flash').textContent()).trim();
    await page.getByRole('table').waitFor();
    out.stillListed = await page.getByRole('link', { name: input.name, exact: true }).count();

    // Sign out through /logout: back on the console's signed-out page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    out.signedOutAt = page.url();
    await check(page, 'signed-out');
    // The orgauth session is over: opening the console shows the login form.
    await page.goto(`${issuer}/console/`);
    await page.getByLabel('Password').waitFor();
    out.loginAfterSignOut = true;
  } else if (phase === 'plan') {
    const page = await newPage(390);
    await signIn(page);
    await page.getByRole('link', { name: 'Create new' }).click();
    const m2m = page.getByRole('radio', { name: 'M2M OAuth Client' });
    await m2m.waitFor();
    out.m2mEnabled = await m2m.isEnabled();
    out.planNote = (await page.locator('.plan-note').textContent()).trim();
    await shoot(page, 'create-team-390');
    await check(page, 'create-team');
  } else if (phase === 'org') {
    const page = await newPage(1280);
    // Every document's title: a consent page is titled "Allow access?".
    out.titles = [];
    page.on('domcontentloaded', () => page.title().then((t) => out.titles.push(t), () => {}));
    await signIn(page);
    out.signInTitles = [...out.titles];
    out.user = (await page.locator('.who').textContent()).trim();
    out.listed = await page.locator('tbody th a').evaluateAll((as) =>
      as.map((a) => `${decodeURIComponent(a.pathname.split('/').pop())} ${a.textContent.trim()}`));
    await shoot(page, 'org-list-1280');

    // A colleague's SPA: the consent page first, and only then the callback.
    await page.route(`${input.callback}**`, (r) =>
      r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>Callback</title><p>signed in</p>' }));
    await page.goto(input.authorize_url);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    out.consentTitle = await page.title();
    out.consentText = (await page.locator('main').textContent()).replace(/\s+/g, ' ').trim();
    await shoot(page, 'org-consent-1280');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${input.callback}**`);
    out.landed = page.url();

    // Back in the console (signed in again from the session, without a
    // consent page): the consent is listed, and the console is not.
    const before = out.titles.length;
    await page.goto(`${issuer}/console/consents`);
    await page.getByRole('heading', { level: 1, name: 'Consents' }).waitFor();
    await page.locator('.card.consent').or(page.getByText('You have not allowed')).first().waitFor();
    out.reentryTitles = out.titles.slice(before);
    out.consents = await page.locator('.card.consent').evaluateAll((cards) =>
      cards.map((c) => `${c.querySelector('h2').textContent.trim()}: ${[...c.querySelectorAll('li code')].map((x) => x.textContent).join(' ')}`));
    await check(page, 'consents');

    // An M2M client, choosing from the registered scopes.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Credentials' }).click();
    await page.getByRole('link', { name: 'Create new' }).click();
    const m2m = page.getByRole('radio', { name: 'M2M OAuth Client' });
    await m2m.waitFor();
    out.m2mEnabled = await m2m.isEnabled();
    await m2m.check();
    await page.getByLabel('Name').fill(input.name);
    out.choices = await page.locator('input[data-scope]').evaluateAll((xs) =>
      xs.map((x) => `${x.dataset.scope}${x.disabled ? ' (disabled)' : ''}`));
    await page.getByRole('checkbox', { name: /read:demo/ }).check();
    out.scopes = await page.getByLabel('Scopes', { exact: true }).inputValue();
    await shoot(page, 'org-create-1280');
    await check(page, 'org-create');
    await page.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    out.secret = await dialog.getByRole('textbox', { name: 'Client secret' }).inputValue();
    out.clientId = await dialog.getByRole('textbox', { name: 'Client ID' }).inputValue();
    out.dialogWarning = (await dialog.locator('.warning').textContent()).trim();
    await dialog.getByRole('button', { name: 'I have stored the secret' }).click();
    await page.getByRole('heading', { level: 1, name: input.name }).waitFor();
    out.secretGone = (await page.content()).includes(out.secret) === false;
    out.detailScopes = await page.getByLabel('Scopes', { exact: true }).inputValue();
    out.checked = await page.locator('input[data-scope]:checked').evaluateAll((xs) => xs.map((x) => x.dataset.scope));
    await shoot(page, 'org-details-1280');
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
  console.log(JSON.stringify(out));
} catch (err) {
  // What the browser showed when it failed, for a human.
  for (const [i, p] of pages.entries()) {
    await p.screenshot({ path: `${shots}/failed-${phase}-${i}.png`, fullPage: true }).catch(() => {});
    out.screenshots.push(`${shots}/failed-${phase}-${i}.png (${p.url()})`);
  }
  console.log(JSON.stringify({ ...out, error: String(err?.stack ?? err) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
