// The onboarding checklist (GET /admin/onboarding, read live on every open): the sender domain
// verified in SES, the app embed on in the theme, a test email sent, an SMS number (optional).
// Shown on the dashboard until every required item is done. The dashboard loads it with its
// figures, so the page renders once (no layout shift when the checklist arrives).

import React, { useState } from 'react';
import { Badge, Banner, BlockStack, Box, Button, Card, InlineStack, Text } from '@shopify/polaris';
import { api } from './api.js';

const TITLES = {
  sender_verified: 'Sender domain verified',
  app_embed: 'App embed on in your theme',
  test_email: 'Test email sent',
  sms_number: 'SMS number chosen',
};

function Action({ id, onTest, sending }) {
  if (id === 'app_embed') {
    return <Button url="shopify://admin/themes/current/editor?context=apps" target="_top">Open the theme editor</Button>;
  }
  if (id === 'test_email') return <Button onClick={onTest} loading={sending}>Send me a test</Button>;
  if (id === 'sms_number') return <Button url="#settings">Choose a number</Button>;
  return null;
}

/** The checklist, or null when it could not be read (the dashboard shows without it). */
export async function loadChecklist() {
  try {
    return (await api('/admin/onboarding')).checklist;
  } catch {
    return null;
  }
}

export default function Onboarding({ checklist, reload }) {
  const [sending, setSending] = useState(false);
  const [problem, setProblem] = useState(null);
  if (!checklist || checklist.every((item) => item.done || item.optional)) return null;
  const sendTest = async () => {
    setSending(true);
    setProblem(null);
    try {
      await api('/admin/test-email', { method: 'POST' });
    } catch (error) {
      setProblem(error.message);
    } finally {
      setSending(false);
      reload();
    }
  };
  const done = checklist.filter((item) => item.done).length;
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">Set up Reclaim</Text>
          <Text as="p" tone="subdued">{`${done} of ${checklist.length} done`}</Text>
        </InlineStack>
        {problem && <Banner tone="critical" title="The test email was not sent">{problem}</Banner>}
        <ul className="reclaim-checklist" aria-label="Setup checklist">
          {checklist.map((item) => (
            <li key={item.id} data-check={item.id} data-done={String(item.done)}>
              <Box paddingBlock="200" borderBlockEndWidth="025" borderColor="border">
                <InlineStack align="space-between" blockAlign="center" gap="300">
                  <BlockStack gap="100">
                    <InlineStack gap="200" blockAlign="center">
                      <Text as="h3" variant="headingSm">{TITLES[item.id] ?? item.id}</Text>
                      <Badge tone={item.done ? 'success' : undefined}>{item.done ? 'Done' : item.optional ? 'Optional' : 'To do'}</Badge>
                    </InlineStack>
                    <Text as="p" tone="subdued">{item.detail}</Text>
                  </BlockStack>
                  {!item.done && <Action id={item.id} onTest={sendTest} sending={sending} />}
                </InlineStack>
              </Box>
            </li>
          ))}
        </ul>
      </BlockStack>
    </Card>
  );
}
