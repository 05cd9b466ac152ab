// The embedded app in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// against a local gateway: its page, its bundle, the App Bridge stand-in's ID tokens and the real
// admin API. Run by tests/tests/admin_app.rs, which seeds the counters of a store with enough
// carts for the lift (RECLAIM_SEEDED_FROM to RECLAIM_SEEDED_TO) and of a tiny one (RECLAIM_TINY_DAY).
// Writes a screenshot of each screen to RECLAIM_SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const BASE = process.env.RECLAIM_BASE;
const SHOP = process.env.RECLAIM_SHOP;
const SHOTS = process.env.RECLAIM_SCREENSHOTS;
const SEEDED_FROM = process.env.RECLAIM_SEEDED_FROM;
const SEEDED_TO = process.env.RECLAIM_SEEDED_TO;
const TINY_DAY = process.env.RECLAIM_TINY_DAY;
const IMAGE = process.env.RECLAIM_IMAGE;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SECTIONS = ['dashboard', 'rules', 'messages', 'on-site', 'settings'];
let browser;

before(async () => {
  for (const [name, value] of Object.entries({ BASE, SHOP, SEEDED_FROM, SEEDED_TO, TINY_DAY, IMAGE })) {
    assert.ok(value, `RECLAIM_${name} is required`);
  }
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

/** The admin API as the app calls it: with an ID token from the local App Bridge stand-in. */
async function adminApi(path, { method = 'GET', body } = {}) {
  const token = await (await fetch(`${BASE}/local/id-token`)).text();
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(BASE + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** A merchant's browser with the app open at `section`; page errors fail the test. */
async function openApp(section, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Every open exchanges the ID token for the shop's offline access (and so installs it).
  const exchanged = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/token-exchange');
  await page.goto(`${BASE}/app?shop=${SHOP}&embedded=1#${section}`);
  await page.getByRole('tab', { selected: true }).first().waitFor();
  return { page, errors, exchanged, close: () => context.close() };
}

const shot = (page, name) => SHOTS && page.screenshot({ path: `${SHOTS}/app-${name}.png`, fullPage: true });
const unsaved = (page) => page.getByRole('region', { name: 'Unsaved changes' });

/** The message the page shows beside the field labelled `label` (Polaris links it by aria-describedby). */
async function messageBeside(page, label) {
  const field = page.getByLabel(label, { exact: true });
  assert.equal(await field.getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
  const ids = (await field.getAttribute('aria-describedby')).split(' ');
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
  return texts.join(' ');
}

test('the page is served with its CSP and the fingerprinted bundle is cached for a year', async () => {
  const response = await fetch(`${BASE}/app?shop=${SHOP}`);
  assert.equal(response.status, 200);
  const csp = response.headers.get('content-security-policy');
  assert.match(csp, new RegExp(`frame-ancestors https://${SHOP.replaceAll('.', '\\.')} https://admin\\.shopify\\.com;`));
  const html = await response.text();
  assert.match(html, /<meta name="shopify-api-key" content="[^"]+">/);
  const script = /src="(\/app\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const asset = await fetch(BASE + script);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
});

test('on first open the dashboard shows the setup checklist, read live', async () => {
  const { page, errors, exchanged, close } = await openApp('dashboard');
  assert.equal((await exchanged).status(), 200, 'the app installed itself through the token exchange');
  const item = (id) => page.locator(`[data-check="${id}"]`);
  await item('test_email').waitFor();
  const states = async () => Object.fromEntries(await Promise.all(
    ['sender_verified', 'app_embed', 'test_email', 'sms_number'].map(async (id) => [id, await item(id).getAttribute('data-done')]),
  ));
  assert.deepEqual(await states(), { sender_verified: 'true', app_embed: 'false', test_email: 'false', sms_number: 'false' });
  assert.match(await item('app_embed').textContent(), /Turn on the Reclaim app embed/);
  await item('test_email').getByRole('button', { name: 'Send me a test' }).click();
  await page.locator('[data-check="test_email"][data-done="true"]').waitFor();
  assert.match(await item('test_email').textContent(), /You sent yourself a test on \d{4}-\d{2}-\d{2}/);
  await shot(page, 'onboarding');
  assert.deepEqual(errors, []);
  await close();
});

test('a changed delay and a disabled step are saved, survive a reload, and /admin/settings agrees', async () => {
  const { page, errors, close } = await openApp('rules');
  await page.getByRole('button', { name: 'Edit reminder' }).click();
  await page.getByLabel('Send after (since the cart was last touched)', { exact: true }).fill('2');
  await page.getByLabel('Enabled: follow-up').uncheck();
  await unsaved(page).getByRole('button', { name: 'Save' }).click();
  await page.getByText('Settings saved').first().waitFor();
  assert.equal(await unsaved(page).count(), 0, 'nothing left unsaved');

  await page.reload();
  await page.getByRole('button', { name: 'Edit reminder' }).waitFor();
  const steps = page.getByRole('list', { name: 'Recovery steps' }).getByRole('listitem');
  assert.match(await steps.nth(0).textContent(), /After 2 hours/);
  assert.equal(await page.getByLabel('Enabled: follow-up').isChecked(), false);
  assert.equal(await page.getByLabel('Enabled: reminder').isChecked(), true);

  const { body } = await adminApi('/admin/settings');
  assert.equal(body.settings.steps[0].delay, '2h');
  assert.equal(body.settings.steps[1].enabled, false);
  assert.notEqual(body.settings.steps[2].enabled, false);
  await shot(page, 'rules');
  assert.deepEqual(errors, []);
  await close();
});

test("the what-if replays the shop's checkouts under the draft beside the saved settings, and /admin/what-if agrees", async () => {
  const { page, errors, close } = await openApp('rules');
  await page.getByLabel('Enabled: last-chance').uncheck();
  await page.getByRole('button', { name: 'Run what-if' }).click();
  const table = page.locator('[data-whatif]');
  await table.waitFor();
  const current = (await adminApi('/admin/settings')).body.settings;
  current.steps[2].enabled = false;
  const { status, body } = await adminApi('/admin/what-if', { method: 'POST', body: { settings: current } });
  assert.equal(status, 200);
  assert.equal(await table.getAttribute('data-whatif'), String(body.checkouts));
  assert.ok(body.checkouts >= 1, 'the seeded checkout is replayed');
  assert.ok(Object.keys(body.draft.sends).length > 0, 'the draft sends something to compare');
  const text = await table.textContent();
  for (const [name, count] of Object.entries(body.draft.sends)) {
    assert.ok(text.includes(`Step ${Number(name.match(/\d+/)[0]) + 1} · ${name.split('.')[1]}`), `${name} in ${text}`);
    assert.ok(text.includes(String(count)));
  }
  await shot(page, 'what-if');
  assert.equal(await unsaved(page).count(), 1, 'nothing saved by a what-if');
  assert.deepEqual(errors, []);
  await close();
});

test("an invalid value shows the API's message beside its field and nothing is saved", async () => {
  const before = (await adminApi('/admin/settings')).body;
  const { page, errors, close } = await openApp('rules');
  const holdout = 'Holdout share (percent of carts that get no message)';
  await page.getByLabel(holdout, { exact: true }).fill('60');
  await unsaved(page).getByRole('button', { name: 'Save' }).click();
  await page.getByText('Nothing was saved').first().waitFor();
  assert.match(await messageBeside(page, holdout), /must be between 0 and 50/);
  assert.equal(await unsaved(page).count(), 1, 'the draft is kept');
  await shot(page, 'rules-error');
  const after = (await adminApi('/admin/settings')).body;
  assert.equal(after.version, before.version, 'nothing saved');
  assert.deepEqual(after.settings, before.settings);
  assert.deepEqual(errors, []);
  await close();
});

test('a save over a concurrent one shows the conflict, and Reload shows what the other saved', async () => {
  const { page, errors, close } = await openApp('rules');
  await page.getByLabel('Holdout share (percent of carts that get no message)', { exact: true }).fill('10');
  // Someone else saves first (another tab, another staff member).
  const current = (await adminApi('/admin/settings')).body;
  const theirs = structuredClone(current.settings);
  theirs.policies.holdout_percent = 20;
  const saved = await adminApi('/admin/settings', { method: 'PUT', body: { version: current.version, settings: theirs } });
  assert.equal(saved.status, 200);

  await unsaved(page).getByRole('button', { name: 'Save' }).click();
  const banner = page.getByText('Someone else saved these settings');
  await banner.waitFor();
  await shot(page, 'rules-conflict');
  assert.equal((await adminApi('/admin/settings')).body.settings.policies.holdout_percent, 20, 'theirs stands');
  await page.getByRole('button', { name: 'Reload' }).click();
  await banner.waitFor({ state: 'detached' });
  await unsaved(page).waitFor({ state: 'detached' });
  assert.equal(await page.getByLabel('Holdout share (percent of carts that get no message)', { exact: true }).inputValue(), '20');
  assert.deepEqual(errors, []);
  await close();
});

test("the message editor's preview shows an edited subject, the shop's images and a German shopper's 89,00 €", async () => {
  const { page, errors, close } = await openApp('messages');
  await page.getByLabel("Shopper's language").selectOption('de');
  const subject = page.locator('[data-preview="subject"]');
  await page.waitForFunction(() => document.querySelector('[data-preview="subject"]')?.textContent.startsWith('Du hast'));
  await page.getByLabel('Subject', { exact: true }).fill('{{ first_name }}, dein Warenkorb bei {{ shop_name }} wartet');
  await page.waitForFunction(() => document.querySelector('[data-preview="subject"]')?.textContent === 'Alex, dein Warenkorb bei Test Shop wartet');
  const email = page.frameLocator('iframe[title="Email preview"]');
  const text = await email.locator('body').textContent();
  assert.match(text, /89,00\u00a0€/, 'the price as a German shopper reads it');
  assert.match(text, /137,00\u00a0€/, 'and the total');
  assert.match(text, /Hallo Alex,/);
  assert.equal(await email.locator(`img[src="${IMAGE}"]`).count(), 1, "the shop's own product image");
  await shot(page, 'messages');

  await page.getByRole('tab', { name: 'SMS' }).click();
  const sms = await page.locator('[data-preview="sms"]').textContent();
  assert.match(sms, /^Test Shop: .* http\S+ Antworte STOP zum Abbestellen$/);
  assert.match(await page.locator('[data-preview="segments"]').textContent(), /^1 segment · GSM-7 · \d+ characters$/);
  await page.getByRole('tab', { name: 'Push' }).click();
  assert.equal(await page.locator('[data-preview="push-title"]').textContent(), 'Test Shop');

  // Copy that names something that is not a variable: the reason beside the field, no preview of it.
  await page.getByRole('tab', { name: 'Email' }).click();
  await page.getByLabel('Heading', { exact: true }).fill('{{ password }}');
  await page.getByText('The preview could not be rendered').waitFor();
  assert.match(await messageBeside(page, 'Heading'), /uses password, which is not one of first_name/);
  await page.getByLabel('Heading', { exact: true }).fill('');
  await page.getByText('The preview could not be rendered').waitFor({ state: 'detached' });

  await unsaved(page).getByRole('button', { name: 'Save' }).click();
  await page.getByText('Settings saved').first().waitFor();
  const { body } = await adminApi('/admin/settings');
  assert.deepEqual(body.settings.steps[0].copy, { email: { de: { subject: '{{ first_name }}, dein Warenkorb bei {{ shop_name }} wartet' } } });
  assert.equal(await subject.textContent(), 'Alex, dein Warenkorb bei Test Shop wartet');
  assert.deepEqual(errors, []);
  await close();
});

/** The dashboard for the days `from` to `to`, and `/admin/stats` for the same days. */
async function dashboardFor(from, to = from) {
  const app = await openApp('dashboard');
  await app.page.getByLabel('From').fill(from);
  await app.page.getByLabel('To').fill(to);
  const query = `from=${from}&to=${to}`;
  await app.page.getByRole('button', { name: 'Show' }).click();
  await app.page.locator(`[data-showing="${from}..${to}"]`).waitFor();
  return { ...app, stats: (await adminApi(`/admin/stats?${query}`)).body };
}

const shown = async (page, selector) => Number((await page.locator(selector).textContent()).replace(/[^0-9.]/g, ''));

test("a seeded store's dashboard shows /admin/stats' figures and the lift with its interval", async () => {
  const { page, errors, close, stats } = await dashboardFor(SEEDED_FROM, SEEDED_TO);
  const { counters, lift } = stats;
  assert.equal(lift.status, 'estimated');
  assert.equal(await shown(page, '[data-counter="abandoned"]'), counters.abandoned);
  assert.equal(await shown(page, '[data-counter="sent"]'), counters['email.sent'] + counters['sms.sent'] + counters['push.sent']);
  assert.equal(await shown(page, '[data-counter="clicks"]'), counters['clicks.step0'] + counters['clicks.step1']);
  assert.equal(await shown(page, '[data-counter="recovered.orders"]'), counters['recovered.orders']);
  assert.equal(await shown(page, '[data-counter="rate"]'), Number(((counters['recovered.orders'] / counters.abandoned) * 100).toFixed(1)));
  assert.equal(await shown(page, '[data-lift="orders"]'), Math.round(lift.incremental_orders.estimate));
  const interval = await page.locator('[data-lift="interval"]').textContent();
  assert.ok(
    interval.includes(`${Math.round(lift.incremental_orders.low)} to ${Math.round(lift.incremental_orders.high)} orders`),
    interval,
  );
  assert.equal(await page.locator('[data-revenue="USD"]').textContent(), '$1,335.00');
  assert.equal(await page.locator('[data-revenue="EUR"]').textContent(), '€445.50');
  assert.equal(await page.locator('.uplot canvas').count(), 1, 'the chart is drawn');
  await shot(page, 'dashboard');
  assert.deepEqual(errors, []);
  await close();
});

test('a tiny store\'s lift card says "not enough data yet" and why', async () => {
  const { page, errors, close, stats } = await dashboardFor(TINY_DAY);
  assert.equal(stats.lift.status, 'not_enough_data');
  const text = await page.locator('[data-lift="not_enough_data"]').textContent();
  assert.match(text, /Not enough data yet: the estimate needs 100 carts in each group/);
  assert.match(text, new RegExp(`So far ${stats.lift.reminded.carts} reminded and ${stats.lift.holdout.carts} in the holdout`));
  assert.equal(await shown(page, '[data-counter="abandoned"]'), stats.counters.abandoned);
  assert.equal(await page.locator('[data-lift="interval"]').count(), 0, 'no interval is claimed');
  assert.deepEqual(errors, []);
  await close();
});

test('no screen has a serious or critical accessibility violation (axe-core), and each is pictured', async () => {
  for (const section of SECTIONS) {
    // The page's CSP (rightly) refuses the injected axe script: only this test's browser lets it in.
    const { page, errors, close } = await openApp(section, { bypassCSP: true });
    await page.waitForLoadState('networkidle');
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const serious = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(serious, [], `${section}: ${serious.join('\n')}`);
    if (!['dashboard', 'rules', 'messages'].includes(section)) await shot(page, section);
    assert.deepEqual(errors, [], section);
    await close();
  }
});
