// The local stack's stand-in for App Bridge (Shopify's `app-bridge.js`, which only runs inside
// the Shopify admin and cannot be reached offline). It gives the embedded app the parts of the
// `shopify` global it uses, as documented in the App Bridge library reference:
// - `shopify.config` (`apiKey` from the `shopify-api-key` meta tag, `shop`);
// - `shopify.idToken()`: an ID (session) token, here minted and signed by the local gateway
//   (`/local/id-token`) for its own shop with the local app secret, as Shopify would sign it;
// - `shopify.toast.show(message)`: a polite live region;
// - `<ui-nav-menu>`: App Bridge moves its links into the admin's own navigation, so the page never
//   shows them; here the element is defined and hidden.
// The save bar is left out: the app shows its own save controls when `shopify.saveBar` is absent.
(() => {
  const apiKey = document.querySelector('meta[name="shopify-api-key"]')?.content ?? '';
  const shop = new URLSearchParams(window.location.search).get('shop') ?? '';
  const toastRegion = () => {
    let region = document.getElementById('app-bridge-toast');
    if (!region) {
      region = Object.assign(document.createElement('div'), { id: 'app-bridge-toast' });
      region.setAttribute('role', 'status');
      region.style.cssText = 'position:fixed;bottom:1rem;left:50%;transform:translateX(-50%);background:#303030;color:#fff;padding:.5rem 1rem;border-radius:.5rem;font:14px sans-serif';
      region.hidden = true;
      document.body.append(region);
    }
    return region;
  };
  if (!customElements.get('ui-nav-menu')) {
    customElements.define('ui-nav-menu', class extends HTMLElement {
      connectedCallback() { this.hidden = true; }
    });
  }
  window.shopify = {
    config: { apiKey, shop },
    async idToken() {
      const response = await fetch('/local/id-token');
      if (!response.ok) throw new Error(`no ID token (${response.status})`);
      return response.text();
    },
    toast: {
      show(message) {
        const region = toastRegion();
        region.textContent = message;
        region.hidden = false;
        clearTimeout(region.timer);
        region.timer = setTimeout(() => { region.hidden = true; }, 3000);
      },
    },
  };
})();
