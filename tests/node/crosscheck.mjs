// Cross-checks webhook signatures with Shopify's own @shopify/shopify-api.
//
//   node crosscheck.mjs sign      < {"secret": "...", "bodies": ["...", ...]}
//       -> ["<base64 hmac>", ...]            (the library's own test-helper signer)
//   node crosscheck.mjs validate  < {"secret": "...", "cases": [{"body", "hmac", "topic", "shop", "webhookId"}]}
//       -> [{"valid": bool, "reason": "..."}] (shopify.webhooks.validate, as an app would call it)
//   node crosscheck.mjs oauth     < {"secret": "...", "queries": [{"code", "shop", "state", "timestamp", "hmac", ...}]}
//       -> [{"valid": bool, "error": "..."}]  (shopify.utils.validateHmac: the install callback's query HMAC)
import '@shopify/shopify-api/adapters/node';
import { shopifyApi, ApiVersion } from '@shopify/shopify-api';
import { getHmac } from '@shopify/shopify-api/test-helpers';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
}));

// The library configured as an app with this client secret.
const app = (secret) => shopifyApi({
  apiKey: 'reclaim-crosscheck',
  apiSecretKey: secret,
  scopes: ['read_orders'],
  hostName: 'reclaim.example',
  apiVersion: ApiVersion.July25 ?? Object.values(ApiVersion)[0],
  isEmbeddedApp: true,
  logger: { level: 0, log: () => {} },
});

const mode = process.argv[2];
if (mode === 'sign') {
  console.log(JSON.stringify(input.bodies.map((body) => getHmac(body, input.secret))));
} else if (mode === 'validate') {
  const shopify = app(input.secret);
  const results = [];
  for (const c of input.cases) {
    const rawRequest = {
      method: 'POST',
      url: '/webhooks/shopify',
      headers: {
        'x-shopify-hmac-sha256': c.hmac,
        'x-shopify-topic': c.topic,
        'x-shopify-shop-domain': c.shop,
        'x-shopify-webhook-id': c.webhookId,
        'x-shopify-api-version': '2026-07',
        'x-shopify-event-id': 'evt-' + c.webhookId,
        'x-shopify-triggered-at': new Date().toISOString(),
        'content-type': 'application/json',
      },
    };
    const result = await shopify.webhooks.validate({ rawBody: c.body, rawRequest, rawResponse: {} });
    results.push({ valid: result.valid, reason: result.reason ?? null });
  }
  console.log(JSON.stringify(results));
} else if (mode === 'oauth') {
  const shopify = app(input.secret);
  const results = [];
  for (const query of input.queries) {
    try {
      results.push({ valid: await shopify.utils.validateHmac(query), error: null });
    } catch (error) {
      results.push({ valid: false, error: String(error.message ?? error) });
    }
  }
  console.log(JSON.stringify(results));
} else {
  console.error('usage: node crosscheck.mjs sign|validate|oauth < input.json');
  process.exit(2);
}
