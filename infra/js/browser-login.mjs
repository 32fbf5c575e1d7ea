// Signs the demo user in through the login page in a real browser (Debian's
// chromium, driven by playwright-core):
//
//   node browser-login.mjs AUTHORIZE_URL REDIRECT_URI SCREENSHOT.png [SECOND_AUTHORIZE_URL SECOND_REDIRECT_URI] < email\npassword\n
//
// Screenshots the login page, fills in the form with the keyboard as a user
// would, submits it, and prints JSON: where the browser landed, and every
// console message (CSP violations show up there).
import { chromium } from 'playwright-core';

const [authorizeUrl, redirectUri, screenshot, secondAuthorizeUrl, secondRedirectUri] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const [email, password] = input.split('\n');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const console_ = [];
  page.on('console', (m) => console_.push(`${m.type()}: ${m.text()}`));

  const resp = await page.goto(authorizeUrl);
  const status = resp.status();
  const title = await page.title();
  await page.screenshot({ path: screenshot, fullPage: true });

  // By label, as a screen reader would find them.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('wrong password');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Sign in' }).click()]);
  const errorLine = await page.getByRole('alert').textContent();
  if (!(await page.getByLabel('Password').count())) {
    throw new Error(`not the login form after a wrong password:\n${await page.content()}`);
  }

  // Nothing listens on the application's address: the browser's request
  // for it is the proof (a CSP violation would block it before it is sent).
  await page.getByLabel('Password').fill(password);
  const [callback] = await Promise.all([
    page.waitForRequest((req) => req.url().startsWith(`${redirectUri}?`), { timeout: 10000 }),
    page.getByLabel('Password').press('Enter'),
  ]);
  // A second application of the same organization, which another member
  // created: the session signs the user in without the form, but the
  // consent page asks first, and nothing reaches the application until
  // the user allows it.
  let second = '';
  let consentTitle = '';
  let earlySecond = '';
  if (secondAuthorizeUrl) {
    // A tab of its own, sharing the browser's cookies: the first tab's
    // failed load of the application's address (nothing listens there)
    // may still be settling, and would interrupt a navigation in that tab.
    const tab = await context.newPage();
    tab.on('console', (m) => console_.push(`${m.type()}: ${m.text()}`));
    tab.on('request', (r) => {
      if (!consentTitle && r.url().startsWith(`${secondRedirectUri}?`)) earlySecond = r.url();
    });
    await tab.goto(secondAuthorizeUrl);
    consentTitle = await tab.title();
    const [req] = await Promise.all([
      tab.waitForRequest((r) => r.url().startsWith(`${secondRedirectUri}?`), { timeout: 10000 }),
      tab.getByRole('button', { name: 'Allow' }).click(),
    ]);
    second = req.url();
  }
  console.log(JSON.stringify({ status, title, errorLine, landed: callback.url(), second, consentTitle, earlySecond, console: console_ }));
} finally {
  await browser.close();
}
