// Reclaim storefront script: cart rescuer, exit-intent help and idle help.
// No framework, no requests but to the shop itself (/cart.js and the app proxy). Cart changes are
// noticed by watching the theme's own requests to the AJAX cart API.
(function () {
  'use strict';
  var own = document.getElementById('reclaim-config');
  var config = { proxy: '/apps/reclaim' };
  try { Object.assign(config, JSON.parse((own && own.textContent) || '{}')); } catch (e) { /* keep defaults */ }
  var settings = {
    cart_rescuer: true, exit_intent: true, idle_help: true, idle_seconds: 45, capture: true,
    answers: {}, consent_text: ''
  };
  var cart = { item_count: 0, token: null };
  var leavingInternally = false;
  var session = window.sessionStorage;

  function enabled(name) { return config[name] !== false && settings[name] !== false; }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  var nativeFetch = window.fetch, reads = 0;
  function refreshCart() {
    var n = ++reads;
    return nativeFetch.call(window, '/cart.js', { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (c) {
        if (n !== reads) return; // a later read is under way
        cart = c;
        document.documentElement.setAttribute('data-reclaim-items', c.item_count || 0);
      })
      .catch(function () {});
  }

  // --- Themes change the cart through Shopify's AJAX API (fetch or XMLHttpRequest to
  // /cart/add.js, /cart/change.js, /cart/update.js, /cart/clear.js, also without `.js` and
  // under a locale root): after such a request succeeds, read /cart.js again.
  function cartWrite(url) {
    try { url = new URL(url, location.href); } catch (e) { return false; }
    return url.origin === location.origin && /\/cart\/(add|change|update|clear)(\.js)?$/.test(url.pathname);
  }
  window.fetch = function (input) {
    var response = nativeFetch.apply(window, arguments);
    if (cartWrite(input && input.url || input)) {
      response.then(function (r) { if (r.ok) refreshCart(); }, function () {});
    }
    return response;
  };
  var xhrOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    if (cartWrite(url)) {
      this.addEventListener('load', function () { if (this.status >= 200 && this.status < 300) refreshCart(); });
    }
    return xhrOpen.apply(this, arguments);
  };

  // --- Cart rescuer: the browser's own leave confirmation, only when leaving the shop.
  function sameOrigin(url) {
    try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; }
  }
  if (window.navigation && navigation.addEventListener) {
    navigation.addEventListener('navigate', function (e) {
      leavingInternally = sameOrigin(e.destination.url);
    });
  }
  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('a[href]');
    if (link) leavingInternally = sameOrigin(link.href);
  }, true);
  document.addEventListener('submit', function () { leavingInternally = true; }, true);
  window.addEventListener('beforeunload', function (e) {
    if (!enabled('cart_rescuer') || leavingInternally || !(cart.item_count > 0)) return;
    e.preventDefault();
    e.returnValue = '';
  });
  window.addEventListener('pageshow', function (e) {
    leavingInternally = false;
    if (e.persisted) refreshCart(); // back from the bfcache: the cart may have changed meanwhile
  });

  // --- A small dialog: focus kept inside, Escape and a close button dismiss it.
  var open = null;
  function dialog(id, title, parts) {
    if (open) return null;
    var previous = document.activeElement;
    var backdrop = el('div', { id: id, 'class': 'reclaim-backdrop' });
    var box = el('div', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': id + '-title', 'class': 'reclaim-dialog' });
    var close = el('button', { type: 'button', 'class': 'reclaim-close', 'aria-label': 'Close' }, '\u00d7');
    box.appendChild(close);
    box.appendChild(el('h2', { id: id + '-title' }, title));
    parts.forEach(function (p) { box.appendChild(p); });
    backdrop.appendChild(box);
    document.body.appendChild(backdrop);
    function focusables() { return box.querySelectorAll('button, a[href], input, textarea, select'); }
    function dismiss() {
      backdrop.remove();
      document.removeEventListener('keydown', onKey, true);
      open = null;
      if (previous && previous.focus) previous.focus();
    }
    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); dismiss(); return; }
      if (e.key !== 'Tab') return;
      var items = focusables();
      var first = items[0], last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
      else if (!box.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
    }
    close.addEventListener('click', dismiss);
    document.addEventListener('keydown', onKey, true);
    open = { dismiss: dismiss };
    close.focus();
    return box;
  }
  function answers(keys) {
    var list = el('dl', { 'class': 'reclaim-answers' });
    keys.forEach(function (k) {
      var text = settings.answers[k[0]];
      if (!text) return;
      list.appendChild(el('dt', {}, k[1]));
      list.appendChild(el('dd', {}, text));
    });
    return list;
  }

  // --- Consented capture: nothing is sent unless the box is ticked.
  function captureForm() {
    var form = el('form', { 'class': 'reclaim-capture', novalidate: '' });
    var label = el('label', { 'for': 'reclaim-contact' }, 'Email or phone (optional)');
    var input = el('input', { id: 'reclaim-contact', name: 'contact', type: 'text', autocomplete: 'email' });
    var consent = el('input', { id: 'reclaim-consent', type: 'checkbox' });
    var consentLabel = el('label', { 'for': 'reclaim-consent' }, settings.consent_text);
    var send = el('button', { type: 'submit' }, 'Remind me');
    var status = el('p', { role: 'status', 'class': 'reclaim-status' });
    [label, input, el('div', {}, ''), send, status].forEach(function (n) { form.appendChild(n); });
    form.insertBefore(consent, send);
    form.insertBefore(consentLabel, send);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var value = input.value.trim();
      if (!value) { status.textContent = 'Enter your email or phone.'; return; }
      if (!consent.checked) { status.textContent = 'Tick the box to agree first.'; return; }
      var body = { cart_token: cart.token, consent: true, source: 'storefront_exit_intent', page: location.pathname };
      body[value.indexOf('@') > 0 ? 'email' : 'phone'] = value;
      // A cart the app has not seen yet (its webhook is seconds behind) is tried once more.
      var post = function (retry) {
        fetch(config.proxy + '/capture', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
        }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (answer) {
            if (r.status === 409 && answer.error === 'cart_not_seen' && retry) return setTimeout(post, 2000, false);
            status.textContent = r.ok ? 'Thanks! We will remind you about your cart.'
              : answer.error === 'cart_has_contact' ? 'We already have a way to remind you about this cart.'
                : r.status === 429 ? 'Too many requests; try again in a minute.' : 'That did not work; check what you typed.';
          });
        });
      };
      post(true);
    });
    return form;
  }

  // --- Exit intent: pointer leaving through the top (desktop), fast upward scroll (touch).
  function showExitHelp() {
    if (!enabled('exit_intent') || session.getItem('reclaim-exit-shown')) return;
    var parts = [answers([['shipping', 'Shipping'], ['returns', 'Returns'], ['support', 'Questions']])];
    if (settings.capture !== false && cart.item_count > 0 && cart.token) parts.push(captureForm());
    if (dialog('reclaim-exit', 'Before you go', parts)) session.setItem('reclaim-exit-shown', '1');
  }
  document.addEventListener('mouseout', function (e) {
    if (!e.relatedTarget && e.clientY <= 0) showExitHelp();
  });
  var lastY = window.scrollY, lastT = Date.now();
  window.addEventListener('scroll', function () {
    var now = Date.now();
    if ('ontouchstart' in window && lastY - window.scrollY > 120 && now - lastT < 300) showExitHelp();
    lastY = window.scrollY; lastT = now;
  }, { passive: true });

  // --- Idle help on the cart page.
  var idleTimer = null;
  function showIdleHelp() {
    var parts = [answers([['shipping', 'Delivery'], ['returns', 'Returns'], ['payment', 'Payment']])];
    if (settings.answers.size_guide_url) parts.push(el('a', { href: settings.answers.size_guide_url }, 'Size guide'));
    parts.push(el('a', { href: '/pages/contact' }, 'Contact the store'));
    dialog('reclaim-idle', 'Need help?', parts);
  }
  function armIdle() {
    clearTimeout(idleTimer);
    if (!enabled('idle_help') || !/^\/(store\/)?cart/.test(location.pathname)) return;
    idleTimer = setTimeout(showIdleHelp, (config.idle_seconds || settings.idle_seconds) * 1000);
  }
  ['mousemove', 'keydown', 'scroll', 'touchstart', 'click'].forEach(function (type) {
    window.addEventListener(type, function () { if (!open) armIdle(); }, { passive: true });
  });

  var style = el('style', {}, '.reclaim-backdrop{position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;' +
    'align-items:center;justify-content:center;z-index:2147483000}.reclaim-dialog{background:#fff;color:#1c1917;' +
    'max-width:26rem;width:calc(100% - 2rem);padding:1.5rem;border-radius:.5rem;position:relative;font:16px/1.4 sans-serif}' +
    '.reclaim-close{position:absolute;top:.5rem;right:.5rem;border:0;background:none;font-size:1.5rem;cursor:pointer}' +
    '.reclaim-answers dt{font-weight:600}.reclaim-answers dd{margin:0 0 .5rem}.reclaim-capture input[type=text]' +
    '{display:block;box-sizing:border-box;width:100%;padding:.4rem;margin:.25rem 0 .5rem}' +
    '.reclaim-capture button[type=submit]{display:block;margin-top:.75rem}');
  document.head.appendChild(style);

  fetch(config.proxy + '/settings', { credentials: 'same-origin' })
    .then(function (r) { return r.ok ? r.json() : {}; })
    .then(function (s) { Object.assign(settings, s); })
    .catch(function () {})
    .then(refreshCart)
    .then(function () { armIdle(); document.documentElement.setAttribute('data-reclaim-ready', '1'); });
})();
