// Signs a user in through their organization's own OpenID provider in a real
// browser (Debian's chromium, driven by playwright-core):
//
//   node browser-sso.mjs AUTHORIZE_URL REDIRECT_URI PROVIDER_ISSUER EMAIL LOGIN SCREENSHOT.png
//
// On orgauth's email step it types the email and continues; at the provider
// (oidc-provider's development pages) it signs in as LOGIN and consents; it
// prints JSON: where the browser landed, the email step's look, and the
// console messages of orgauth's own pages (CSP violations show up there).
import { chromium } from 'playwright-core';

const [authorizeUrl, redirectUri, providerIssuer, email, login, screenshot] = process.argv.slice(2);
const orgauth = new URL(authorizeUrl).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const console_ = [];
  page.on('console', (m) => {
    if (page.url().startsWith(orgauth)) console_.push(`${m.type()}: ${m.text()}`);
  });
  const landed = page.waitForRequest((r) => r.url().startsWith(`${redirectUri}?`), { timeout: 20000 });

  await page.goto(authorizeUrl);
  const title = await page.title();
  const passwordFields = await page.locator('input[type=password]').count();
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.getByLabel('Email').fill(email);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(providerIssuer), { timeout: 10000 }),
    page.getByRole('button', { name: 'Continue' }).click(),
  ]);
  // The provider's login, then its consent.
  for (let i = 0; i < 3 && page.url().startsWith(providerIssuer); i++) {
    if (await page.locator('input[name=login]').count()) {
      await page.locator('input[name=login]').fill(login);
      await page.locator('input[name=password]').fill('any');
    }
    await Promise.all([
      page.waitForEvent('framenavigated').catch(() => {}),
      page.locator('button[type=submit]').first().click(),
    ]);
    await page.waitForLoadState('domcontentloaded').catch(() => {});
  }
  // orgauth's consent page: the provisioned user did not create the
  // application, so it asks before any code leaves.
  await page.waitForSelector('form[action="/consent"]', { timeout: 10000 });
  const consentTitle = await page.title();
  await page.getByRole('button', { name: 'Allow' }).click();
  const req = await landed;
  console.log(JSON.stringify({ title, passwordFields, consentTitle, landed: req.url(), console: console_ }));
} finally {
  await browser.close();
}
