// make bench: Lighthouse (npm `lighthouse`, desktop preset, performance only) on each screen of
// the embedded app, in Debian's Chromium (/usr/bin/chromium, never downloaded), against a local
// stack at RECLAIM_BASE. Prints LCP, CLS and TBT per screen beside the Built for Shopify admin
// budgets (LCP ≤ 2.5 s, CLS ≤ 0.1) and exits 1 when a screen is over. INP needs a real
// interaction and is not measured in a navigation: TBT, the main thread's blocked time during
// load, is printed as the lab stand-in Lighthouse itself recommends.
import lighthouse from 'lighthouse';
import desktop from 'lighthouse/core/config/desktop-config.js';
import * as chromeLauncher from 'chrome-launcher';

const BASE = process.env.RECLAIM_BASE;
const SHOP = process.env.RECLAIM_SHOP;
if (!BASE || !SHOP) throw new Error('RECLAIM_BASE and RECLAIM_SHOP are required');
const SCREENS = ['dashboard', 'rules', 'messages', 'on-site', 'settings'];
const BUDGET = { lcp: 2500, cls: 0.1 };

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM || '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const rows = [];
try {
  for (const screen of SCREENS) {
    const url = `${BASE}/app?shop=${SHOP}#${screen}`;
    const { lhr } = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error' }, desktop);
    const audit = (id) => lhr.audits[id]?.numericValue ?? NaN;
    rows.push({
      screen,
      lcp: audit('largest-contentful-paint'),
      cls: audit('cumulative-layout-shift'),
      tbt: audit('total-blocking-time'),
      score: Math.round((lhr.categories.performance.score ?? 0) * 100),
    });
  }
} finally {
  await chrome.kill();
}

console.log(`Lighthouse ${desktop.settings?.formFactor ?? 'desktop'} preset, Chromium at ${process.env.CHROMIUM || '/usr/bin/chromium'}`);
console.log('screen       LCP (≤ 2500 ms)   CLS (≤ 0.1)   TBT      score');
let over = false;
for (const row of rows) {
  const ok = row.lcp <= BUDGET.lcp && row.cls <= BUDGET.cls;
  over ||= !ok;
  console.log(
    `${row.screen.padEnd(12)} ${row.lcp.toFixed(0).padStart(8)} ms      ${row.cls.toFixed(3).padStart(7)}     ${row.tbt.toFixed(0).padStart(5)} ms  ${String(row.score).padStart(4)}  ${ok ? 'within budget' : 'OVER BUDGET'}`,
  );
}
process.exit(over ? 1 : 0);
