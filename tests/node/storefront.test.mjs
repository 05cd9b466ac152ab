// The storefront script in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core). Run by tests/tests/storefront.rs with RECLAIM_BASE pointing at a local
// gateway; writes screenshots to RECLAIM_SCREENSHOTS and the captured cart token to RECLAIM_RESULT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const BASE = process.env.RECLAIM_BASE;
const SHOTS = process.env.RECLAIM_SCREENSHOTS;
const RESULT = process.env.RECLAIM_RESULT;
let browser;

before(async () => {
  assert.ok(BASE, 'RECLAIM_BASE is required');
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

async function shopPage(path = '/store/products/linen-throw') {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(d.type()); await d.dismiss(); });
  await page.goto(BASE + path);
  await page.waitForSelector('html[data-reclaim-ready]');
  return { context, page, dialogs };
}

async function addToCart(page) {
  await page.click('#add');
  await page.waitForFunction(() => document.getElementById('add').textContent === 'Added');
  await page.evaluate(() => fetch('/cart.js').then((r) => r.json()));
  await page.waitForTimeout(200);
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

function exitIntent(page) {
  return page.evaluate(() => document.dispatchEvent(new MouseEvent('mouseout', { clientY: -1, relatedTarget: null, bubbles: true })));
}

test('leaving the site with a full cart asks for confirmation; inside the shop it does not', async () => {
  const { context, page, dialogs } = await shopPage();
  await addToCart(page);
  await page.click('#cart-link');
  await page.waitForSelector('html[data-reclaim-ready]');
  assert.deepEqual(dialogs, [], 'internal link: no confirmation');
  await page.click('#checkout');
  await page.waitForURL(/\/checkout/);
  assert.deepEqual(dialogs, [], 'on the way to checkout: no confirmation');
  await page.click('#home');
  await page.waitForURL(/linen-throw/);
  await page.waitForSelector('html[data-reclaim-ready]');
  assert.deepEqual(dialogs, [], 'back into the shop: no confirmation');
  await page.click('body');
  await page.click('#external', { noWaitAfter: true });
  await page.waitForTimeout(500);
  assert.deepEqual(dialogs, ['beforeunload'], 'another site: the native leave confirmation');
  await page.close({ runBeforeUnload: true });
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(dialogs, ['beforeunload', 'beforeunload'], 'closing the tab: confirmation');
  await context.close();
});

test('an empty cart never asks', async () => {
  const { context, page, dialogs } = await shopPage();
  await page.click('body');
  await page.click('#external');
  await page.waitForURL(/elsewhere/);
  assert.deepEqual(dialogs, []);
  await context.close();
});

test('exit intent: once per session, keyboard usable, no layout shift, capture only with consent', async () => {
  const { context, page } = await shopPage();
  await addToCart(page);
  const captures = [];
  page.on('request', (r) => { if (r.url().includes('/apps/reclaim/capture')) captures.push(r.postDataJSON()); });
  const heading = await page.locator('h1').boundingBox();
  await page.focus('#add');
  await exitIntent(page);
  const dialog = page.locator('#reclaim-exit [role=dialog]');
  await dialog.waitFor();
  assert.deepEqual(await page.locator('h1').boundingBox(), heading, 'no layout shift');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'reclaim-close', 'focus moves into the dialog');
  for (let i = 0; i < 8; i += 1) {
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => !!document.activeElement.closest('.reclaim-dialog')), 'focus stays inside');
  }
  await shot(page, 'exit-intent');
  await page.fill('#reclaim-contact', 'browser@shopper.test');
  await page.click('.reclaim-capture button[type=submit]');
  await page.waitForTimeout(300);
  assert.match(await page.textContent('.reclaim-status'), /Tick the box/);
  assert.equal(captures.length, 0, 'without the checkbox nothing is sent');
  await page.check('#reclaim-consent');
  const response = page.waitForResponse((r) => r.url().includes('/apps/reclaim/capture'));
  await page.click('.reclaim-capture button[type=submit]');
  assert.equal((await response).status(), 200);
  await page.waitForFunction(() => /Thanks/.test(document.querySelector('.reclaim-status').textContent));
  assert.equal(captures.length, 1);
  assert.equal(captures[0].consent, true);
  assert.equal(captures[0].email, 'browser@shopper.test');
  await shot(page, 'exit-intent-captured');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'add', 'focus returns');
  await exitIntent(page);
  await page.waitForTimeout(300);
  assert.equal(await page.locator('#reclaim-exit').count(), 0, 'once per session');
  const cart = await page.evaluate(() => fetch('/cart.js').then((r) => r.json()));
  if (RESULT) writeFileSync(RESULT, JSON.stringify({ cart_token: cart.token }));
  await context.close();
});

test('the close button dismisses the exit dialog', async () => {
  const { context, page } = await shopPage();
  await exitIntent(page);
  await page.locator('#reclaim-exit').waitFor();
  await page.click('.reclaim-close');
  assert.equal(await page.locator('#reclaim-exit').count(), 0);
  await context.close();
});

test('idle help appears on the cart page after the configured time, not before', async () => {
  const { context, page } = await shopPage('/store/cart?idle=2');
  await page.waitForTimeout(1200);
  assert.equal(await page.locator('#reclaim-idle').count(), 0, 'not before');
  await page.locator('#reclaim-idle').waitFor({ timeout: 3000 });
  assert.match(await page.textContent('#reclaim-idle'), /Need help\?/);
  assert.match(await page.textContent('#reclaim-idle'), /Delivery/);
  await shot(page, 'idle-help');
  await context.close();
});

test('the script stays within 8 KB gzipped', () => {
  const script = readFileSync(new URL('../../extensions/reclaim-storefront/assets/reclaim.js', import.meta.url));
  const size = gzipSync(script, { level: 9 }).length;
  assert.ok(size <= 8192, `reclaim.js is ${size} bytes gzipped`);
});

test('screenshot of the product page', async () => {
  const { context, page } = await shopPage();
  await shot(page, 'product-page');
  await context.close();
});
