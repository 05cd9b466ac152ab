// The embedded app: five sections (Dashboard, Recovery rules, Messages, On-site, Settings) in
// Polaris, inside the Shopify admin. App Bridge (loaded by the page before this script) gives the
// ID token for every API call, the admin's navigation menu and the save bar; the local stack
// serves a stand-in for it that signs ID tokens itself.

import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AppProvider, Banner, BlockStack, Button, InlineStack, Page, SkeletonPage, Tabs, Text } from '@shopify/polaris';
import { api } from './api.js';
import en from '@shopify/polaris/locales/en.json';
import Dashboard from './Dashboard.jsx';
import Rules from './Rules.jsx';
import Messages from './Messages.jsx';
import { OnSite, Settings } from './Screens.jsx';
import { useSettings } from './useSettings.js';

const SECTIONS = [
  { id: 'dashboard', content: 'Dashboard', title: 'Dashboard' },
  { id: 'rules', content: 'Recovery rules', title: 'Recovery rules' },
  { id: 'messages', content: 'Messages', title: 'Messages' },
  { id: 'on-site', content: 'On-site', title: 'On-site' },
  { id: 'settings', content: 'Settings', title: 'Settings' },
];

function sectionFromHash() {
  const index = SECTIONS.findIndex((s) => `#${s.id}` === window.location.hash);
  return index < 0 ? 0 : index;
}

/** Save and discard for the settings draft: the admin's save bar, and the same buttons on the page. */
function SaveControls({ settings }) {
  const { dirty, saving, save, discard, problem, conflict, reload, notice, saveBarId } = settings;
  const adminSaveBar = Boolean(window.shopify?.saveBar);
  return (
    <BlockStack gap="300">
      {adminSaveBar && (
        <ui-save-bar id={saveBarId}>
          <button variant="primary" onClick={save}>Save</button>
          <button onClick={discard}>Discard</button>
        </ui-save-bar>
      )}
      {conflict && (
        <Banner tone="warning" title="Someone else saved these settings" action={{ content: 'Reload', onAction: reload }}>
          {problem} Reloading shows their settings; your changes here are discarded.
        </Banner>
      )}
      {problem && !conflict && <Banner tone="critical" title="Nothing was saved">{problem}</Banner>}
      {notice && <Banner tone="success">{notice}</Banner>}
      {dirty && (
        <div className="reclaim-save-row" role="region" aria-label="Unsaved changes">
          <InlineStack align="space-between" blockAlign="center">
            <Text as="p" fontWeight="semibold">Unsaved changes</Text>
            <InlineStack gap="200">
              <Button onClick={discard}>Discard</Button>
              <Button variant="primary" onClick={save} loading={saving}>Save</Button>
            </InlineStack>
          </InlineStack>
        </div>
      )}
    </BlockStack>
  );
}

/**
 * Shopify's token exchange, once per open: the app's ID token becomes (or renews) the shop's
 * offline access, which also clears "needs re-authorisation". A failure leaves the app usable.
 */
function useTokenExchange() {
  useEffect(() => {
    api('/auth/token-exchange', { method: 'POST' }).catch((error) => {
      console.warn(`token exchange: ${error.message}`);
    });
  }, []);
}

function App() {
  useTokenExchange();
  const [selected, setSelected] = useState(sectionFromHash);
  const settings = useSettings();
  useEffect(() => {
    const follow = () => setSelected(sectionFromHash());
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  const section = SECTIONS[selected];
  const choose = (index) => {
    window.location.hash = SECTIONS[index].id;
    setSelected(index);
  };
  const editsSettings = section.id !== 'dashboard';
  let body;
  if (section.id === 'dashboard') body = <Dashboard />;
  else if (settings.loading && !settings.draft) body = <SkeletonPage primaryAction />;
  else if (!settings.draft) body = <Banner tone="critical" title="The settings could not be loaded">{settings.problem}</Banner>;
  else if (section.id === 'rules') body = <Rules settings={settings} />;
  else if (section.id === 'messages') body = <Messages settings={settings} />;
  else if (section.id === 'on-site') body = <OnSite settings={settings} />;
  else body = <Settings settings={settings} />;
  return (
    <Page title={section.title} fullWidth={false}>
      <ui-nav-menu>
        {/* App Bridge takes the first link as the app's home and does not list it. */}
        <a href="/app" rel="home">Dashboard</a>
        {SECTIONS.slice(1).map((s) => <a key={s.id} href={`/app#${s.id}`}>{s.content}</a>)}
      </ui-nav-menu>
      <BlockStack gap="400">
        <Tabs tabs={SECTIONS} selected={selected} onSelect={choose} />
        {editsSettings && settings.draft && <SaveControls settings={settings} />}
        <main>{body}</main>
      </BlockStack>
    </Page>
  );
}

createRoot(document.getElementById('root')).render(
  <AppProvider i18n={en}>
    <App />
  </AppProvider>,
);
