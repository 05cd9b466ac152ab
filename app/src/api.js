// The admin API as the app calls it. Every request carries an ID token from App Bridge
// (`shopify.idToken()`, Shopify's session token); the shop comes from that token only, so nothing
// here names the shop. Errors keep the API's shape: `{error, message, errors?}`.

/** An admin API refusal: `status`, the API's `code` and `message`, and field `errors` (path, reason). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The request failed (${status}).`);
    this.status = status;
    this.code = body?.error || 'unknown';
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
  }
}

async function token() {
  if (!window.shopify?.idToken) throw new ApiError(401, { message: 'App Bridge is not loaded: open Reclaim from the Shopify admin.' });
  return window.shopify.idToken();
}

/** Calls `path` with `method` and an optional JSON `body`; resolves to the parsed reply, or a Response for `raw`. */
export async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = { authorization: `Bearer ${await token()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, parsed);
  }
  return raw ? response : response.json();
}

/** The field errors of `error` whose path is `path` or lies under it, as one message. */
export function fieldError(errors, path) {
  const found = errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`));
  return found.length ? found.map((e) => e.reason).join('; ') : undefined;
}
