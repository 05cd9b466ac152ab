// Node peers of Reclaim's webhook hot path, measured on the same bytes.
//
// The Rust hot path takes the raw body of a Shopify webhook (~10 KB checkouts/update), checks its
// X-Shopify-Hmac-Sha256 (HMAC-SHA256 under the app's client secret, base64), and parses the JSON.
// This script does the same work in Node, two ways, and prints the median ns per webhook of each:
//
//   shopify-api  @shopify/shopify-api (the node adapter), as a Shopify app would do it:
//                rawBody = body.toString('utf8');
//                await shopify.webhooks.validate({rawBody, rawRequest, rawResponse});
//                JSON.parse(rawBody)
//   bare-node    node:crypto by hand:
//                createHmac('sha256', secret).update(body).digest() vs the base64-decoded header with
//                timingSafeEqual, then JSON.parse(body.toString('utf8'))
//
// Both peers start from the same Buffer of body bytes on every iteration (a server receives bytes),
// so the utf-8 decode is inside the timed loop for both. The request object (method, url, headers)
// is built once outside the loop; whatever the library does per call (copying and canonicalising
// headers, importing the WebCrypto key, signing, base64, header checks) stays inside.
// The library's logger is set to errors only, written to stderr (by default it prints a
// "version ..." line to stdout when the api object is created; nothing is logged per call at the
// default level either, but its debug calls still run and are part of its cost).
//
// `make bench` runs it beside the Rust figure (`reclaim bench-hot-path`) on the same body file:
//
//   node tests/node/bench-hotpath.mjs --body FILE --secret SECRET [--seconds S]
//
// Before timing it checks that both peers accept the signed body and reject a tampered one
// (exit 1 otherwise). Each peer is warmed up for ~0.5 s, then run in batches (~20 ms each) for
// about S seconds (default 3); the reported figure is the median batch's ns/op.
// stdout gets exactly one line of JSON:
//   {"body_bytes":N,"shopify_api_ns_per_op":X,"bare_node_ns_per_op":Y,"node":"vX.Y.Z","shopify_api_version":"12.3.0"}
// Everything else goes to stderr. Needs `npm ci --prefix tests/node`.
import '@shopify/shopify-api/adapters/node';
import { shopifyApi, ApiVersion, LogSeverity } from '@shopify/shopify-api';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const usage = 'usage: node tests/node/bench-hotpath.mjs --body FILE --secret SECRET [--seconds S]';
const die = (message, code = 1) => {
  process.stderr.write(`bench-hotpath: ${message}\n`);
  process.exit(code);
};

// ---- arguments -------------------------------------------------------------------------------
const args = { seconds: '3' };
for (let i = 2; i < process.argv.length; i++) {
  const flag = process.argv[i];
  if (flag === '-h' || flag === '--help') {
    process.stderr.write(`${usage}\n`);
    process.exit(0);
  }
  const m = /^--(body|secret|seconds)(?:=(.*))?$/s.exec(flag);
  if (!m) die(`unknown argument ${JSON.stringify(flag)}\n${usage}`, 2);
  const value = m[2] ?? process.argv[++i];
  if (value === undefined) die(`${flag} needs a value\n${usage}`, 2);
  args[m[1]] = value;
}
if (!args.body || args.secret === undefined) die(usage, 2);
if (args.secret === '') die('--secret must not be empty', 2);
const seconds = Number(args.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) die(`--seconds must be a positive number, got ${args.seconds}`, 2);

let body;
try {
  body = readFileSync(args.body);
} catch (error) {
  die(`cannot read --body ${args.body}: ${error.message}`);
}
if (body.length === 0) die('body file is empty');
const secret = args.secret;

// ---- the webhook as Shopify sends it ---------------------------------------------------------
const sign = (bytes) => createHmac('sha256', secret).update(bytes).digest('base64');
const webhookId = randomUUID();
const headersFor = (hmac) => ({
  // Node's IncomingMessage lower-cases header names; the library canonicalises them anyway.
  'content-type': 'application/json',
  'x-shopify-topic': 'checkouts/update',
  'x-shopify-hmac-sha256': hmac,
  'x-shopify-shop-domain': 'demo-store.myshopify.com',
  'x-shopify-api-version': '2026-07',
  'x-shopify-webhook-id': webhookId,
  'x-shopify-event-id': randomUUID(),
  'x-shopify-triggered-at': new Date().toISOString(),
});
const requestFor = (hmac) => ({ method: 'POST', url: '/webhooks/shopify', headers: headersFor(hmac) });
const rawRequest = requestFor(sign(body));
const rawResponse = {}; // validate() never touches the response with the node adapter

const shopify = shopifyApi({
  apiKey: 'reclaim-bench',
  apiSecretKey: secret,
  scopes: ['read_orders'],
  hostName: 'reclaim.example',
  apiVersion: ApiVersion.July25 ?? Object.values(ApiVersion)[0],
  isEmbeddedApp: true,
  // Errors only, and never on stdout (the default prints an info line there at construction).
  logger: { level: LogSeverity.Error, log: (_severity, message) => process.stderr.write(`${message}\n`) },
});

// ---- the two peers: one webhook each, return the parsed payload ------------------------------
async function shopifyApiOnce(bytes, request) {
  const rawBody = bytes.toString('utf8');
  const result = await shopify.webhooks.validate({ rawBody, rawRequest: request, rawResponse });
  if (!result.valid) return null;
  return JSON.parse(rawBody);
}

function bareNodeOnce(bytes, request) {
  const expected = Buffer.from(request.headers['x-shopify-hmac-sha256'], 'base64');
  const actual = createHmac('sha256', secret).update(bytes).digest();
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
  return JSON.parse(bytes.toString('utf8'));
}

// ---- correctness before timing ---------------------------------------------------------------
{
  const result = await shopify.webhooks.validate({ rawBody: body.toString('utf8'), rawRequest, rawResponse });
  if (result.valid !== true) die(`shopify-api rejected the signed body: ${JSON.stringify(result)}`);
  if (result.topic !== 'CHECKOUTS_UPDATE' || result.domain !== 'demo-store.myshopify.com') {
    die(`shopify-api returned unexpected webhook fields: ${JSON.stringify(result)}`);
  }
  let parsed;
  try {
    parsed = [await shopifyApiOnce(body, rawRequest), bareNodeOnce(body, rawRequest)];
  } catch (error) {
    die(`body is not valid JSON: ${error.message}`);
  }
  if (parsed[0] === null) die('shopify-api peer rejected the signed body');
  if (parsed[1] === null) die('bare-node peer rejected the signed body');
  if (JSON.stringify(parsed[0]) !== JSON.stringify(parsed[1])) die('the two peers parsed different payloads');

  // Tampered body, original signature: flip the low bit of a byte in the middle.
  const tampered = Buffer.from(body);
  tampered[tampered.length >> 1] ^= 0x01;
  const bad = await shopify.webhooks.validate({ rawBody: tampered.toString('utf8'), rawRequest, rawResponse });
  if (bad.valid !== false) die(`shopify-api accepted a tampered body: ${JSON.stringify(bad)}`);
  if (bareNodeOnce(tampered, rawRequest) !== null) die('bare-node accepted a tampered body');

  // Signature of another body (right length, wrong value): both must reject.
  const wrongSig = requestFor(sign(Buffer.concat([body, Buffer.from(' ')])));
  const bad2 = await shopify.webhooks.validate({ rawBody: body.toString('utf8'), rawRequest: wrongSig, rawResponse });
  if (bad2.valid !== false) die('shopify-api accepted a wrong signature');
  if (bareNodeOnce(body, wrongSig) !== null) die('bare-node accepted a wrong signature');
  process.stderr.write(`bench-hotpath: checks passed (valid body accepted, tampered body and wrong signature rejected by both; reason=${bad.reason})\n`);
}

// ---- timing ----------------------------------------------------------------------------------
let sink = 0; // keeps the parsed payloads observably used
const WARMUP_NS = 500_000_000n;
const BATCH_TARGET_NS = 20_000_000; // ~20 ms per batch

async function measure(name, once, isAsync) {
  // Warm-up, which also calibrates the batch size.
  let n = 0;
  const w0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < WARMUP_NS) {
    for (let i = 0; i < 64; i++) {
      const v = isAsync ? await once(body, rawRequest) : once(body, rawRequest);
      if (v === null) die(`${name}: rejected the signed body during warm-up`);
      sink += v.line_items?.length ?? 1;
    }
    n += 64;
    elapsed = process.hrtime.bigint() - w0;
  }
  const warmNsPerOp = Number(elapsed) / n;
  const batch = Math.max(16, Math.round(BATCH_TARGET_NS / warmNsPerOp));

  const budget = BigInt(Math.round(seconds * 1e9));
  const perBatch = [];
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - t0 < budget || perBatch.length < 5) {
    const b0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) {
      const v = isAsync ? await once(body, rawRequest) : once(body, rawRequest);
      if (v === null) die(`${name}: rejected the signed body while timing`);
      sink += v.line_items?.length ?? 1;
    }
    perBatch.push(Number(process.hrtime.bigint() - b0) / batch);
  }
  perBatch.sort((a, b) => a - b);
  const mid = perBatch.length >> 1;
  const median = perBatch.length % 2 ? perBatch[mid] : (perBatch[mid - 1] + perBatch[mid]) / 2;
  process.stderr.write(
    `bench-hotpath: ${name.padEnd(11)} median ${median.toFixed(1)} ns/op ` +
      `(min ${perBatch[0].toFixed(1)}, max ${perBatch[perBatch.length - 1].toFixed(1)}; ` +
      `${perBatch.length} batches x ${batch} ops; warm-up ${warmNsPerOp.toFixed(1)} ns/op)\n`,
  );
  return median;
}

const shopifyNs = await measure('shopify-api', shopifyApiOnce, true);
const bareNs = await measure('bare-node', bareNodeOnce, false);

// ---- version of the library actually loaded --------------------------------------------------
function shopifyApiVersion() {
  // The package does not export its package.json: walk up from the entry point Node resolved
  // (the copy actually loaded), falling back to tests/node/node_modules next to this script.
  const starts = [];
  try {
    starts.push(dirname(fileURLToPath(import.meta.resolve('@shopify/shopify-api'))));
  } catch (error) {
    process.stderr.write(`bench-hotpath: cannot resolve @shopify/shopify-api: ${error.message}\n`);
  }
  starts.push(fileURLToPath(new URL('./node_modules/@shopify/shopify-api', import.meta.url)));
  for (let dir of starts) {
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        if (pkg.name === '@shopify/shopify-api' && pkg.version) return pkg.version;
      } catch {}
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  process.stderr.write("bench-hotpath: cannot find @shopify/shopify-api's package.json\n");
  return 'unknown';
}
const libVersion = shopifyApiVersion();
if (libVersion !== '12.3.0') process.stderr.write(`bench-hotpath: note: @shopify/shopify-api is ${libVersion}, not 12.3.0\n`);

// Numbers as floats (one decimal), so a whole number still reads as a float.
const float = (x) => x.toFixed(1);
process.stdout.write(
  `{"body_bytes":${body.length},"shopify_api_ns_per_op":${float(shopifyNs)},"bare_node_ns_per_op":${float(bareNs)},` +
    `"node":${JSON.stringify(process.version)},"shopify_api_version":${JSON.stringify(libVersion)}}\n`,
);
