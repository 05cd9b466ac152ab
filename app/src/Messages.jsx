// Messages: each step's words on each channel, per language, beside a live preview rendered by
// the real renderer (POST /admin/message-preview with the draft): the email as it will arrive
// (images, quantities, prices in the example shopper's currency and format), the SMS with its
// segment count and STOP line, the push's title and body. A field left empty keeps the
// template's words, shown as its placeholder. "Send me a test" mails exactly what the preview
// shows (the draft, the step, the language and currency) to the shop's contact address.

import React, { useEffect, useRef, useState } from 'react';
import {
  Banner, BlockStack, Box, Button, Card, FormLayout, InlineGrid, InlineStack, Select, Tabs, Text, TextField,
} from '@shopify/polaris';
import { api, ApiError, fieldError } from './api.js';

const LANGUAGES = [
  ['English', 'en'], ['Deutsch', 'de'], ['Français', 'fr'], ['Español', 'es'], ['Português', 'pt'], ['Italiano', 'it'],
  ['Nederlands', 'nl'],
];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'BRL'];
const CHANNELS = [
  { id: 'email', content: 'Email' },
  { id: 'sms', content: 'SMS' },
  { id: 'push', content: 'Push' },
];
const TEMPLATES = {
  email: [['Reminder', 'reminder'], ['Follow-up', 'follow_up'], ['Last chance', 'last_chance']],
  sms: [['Reminder', 'sms_reminder']],
  push: [['Reminder', 'push_reminder']],
};
const FIELDS = {
  email: ['subject', 'greeting', 'heading', 'body', 'button'],
  sms: ['text'],
  push: ['title', 'body'],
};
const FIELD_LABELS = {
  subject: 'Subject', greeting: 'Greeting (only when the first name is known)', heading: 'Heading', body: 'Body',
  button: 'Button text', text: 'Text (the link and the STOP line follow)', title: 'Title',
};
const MULTILINE = new Set(['body', 'text']);

/** The draft's preview, fetched again (debounced) whenever what it depends on changes. */
function usePreview(draft, step, language, currency) {
  const [state, setState] = useState({ preview: null, errors: [], problem: null });
  const latest = useRef(0);
  const body = JSON.stringify({ settings: draft, step, language, currency });
  useEffect(() => {
    const request = ++latest.current;
    const timer = setTimeout(async () => {
      try {
        const preview = await api('/admin/message-preview', { method: 'POST', body: JSON.parse(body) });
        if (request === latest.current) setState({ preview, errors: [], problem: null });
      } catch (error) {
        if (request !== latest.current) return;
        const errors = error instanceof ApiError ? error.errors : [];
        setState((s) => ({ ...s, errors, problem: error.message }));
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [body]);
  return state;
}

function EmailPreview({ email }) {
  return (
    <BlockStack gap="200">
      <Text as="p"><Text as="span" tone="subdued">Subject: </Text><span data-preview="subject">{email.subject}</span></Text>
      <iframe
        title="Email preview"
        sandbox=""
        srcDoc={email.html}
        style={{ width: '100%', height: '640px', border: '1px solid #e3e3e3', borderRadius: '8px', background: '#fff' }}
      />
    </BlockStack>
  );
}

function SmsPreview({ sms }) {
  const segments = `${sms.segments} segment${sms.segments === 1 ? '' : 's'} · ${sms.encoding} · ${sms.characters} characters`;
  return (
    <BlockStack gap="200">
      <Box background="bg-surface-secondary" padding="400" borderRadius="300">
        <Text as="p"><span data-preview="sms">{sms.text}</span></Text>
      </Box>
      <Text as="p" tone="subdued"><span data-preview="segments">{segments}</span></Text>
    </BlockStack>
  );
}

function PushPreview({ push }) {
  return (
    <Box background="bg-surface-secondary" padding="400" borderRadius="300">
      <BlockStack gap="100">
        <Text as="p" fontWeight="semibold"><span data-preview="push-title">{push.title}</span></Text>
        <Text as="p"><span data-preview="push-body">{push.body}</span></Text>
      </BlockStack>
    </Box>
  );
}

export default function Messages({ settings }) {
  const { draft, edit, errors: saveErrors } = settings;
  const [step, setStep] = useState(0);
  const [language, setLanguage] = useState('en');
  const [currency, setCurrency] = useState('USD');
  const [channel, setChannel] = useState(0);
  const [test, setTest] = useState(null);
  const index = Math.min(step, draft.steps.length - 1);
  const { preview, errors: previewErrors, problem } = usePreview(draft, index, language, currency);
  const errors = [...saveErrors, ...previewErrors];
  const channelId = CHANNELS[channel].id;
  const current = draft.steps[index];
  const own = current.copy?.[channelId]?.[language] ?? {};
  const templateCopy = preview?.template_copy?.[channelId] ?? {};

  const setField = (field, value) => edit((d) => {
    const s = d.steps[index];
    const copy = { ...(s.copy ?? {}) };
    const byLanguage = { ...(copy[channelId] ?? {}) };
    const fields = { ...(byLanguage[language] ?? {}) };
    if (value === '') delete fields[field]; else fields[field] = value;
    if (Object.keys(fields).length) byLanguage[language] = fields; else delete byLanguage[language];
    if (Object.keys(byLanguage).length) copy[channelId] = byLanguage; else delete copy[channelId];
    if (Object.keys(copy).length) s.copy = copy; else delete s.copy;
  });

  const chooseLanguage = (code) => {
    setLanguage(code);
    setCurrency(code === 'en' ? 'USD' : 'EUR');
  };

  const sendTest = async () => {
    setTest({ sending: true });
    try {
      const reply = await api('/admin/test-email', { method: 'POST', body: { settings: draft, step: index, language, currency } });
      setTest({ tone: 'success', text: `A test email is on its way to ${reply.sent_to}.` });
    } catch (error) {
      setTest({ tone: 'critical', text: error.message });
    }
  };

  const variables = preview?.variables ?? [];
  return (
    <BlockStack gap="500">
      <Card>
        <InlineGrid columns={{ xs: 1, md: 3 }} gap="300">
          <Select
            label="Step"
            options={draft.steps.map((s, i) => ({ label: s.name || `Step ${i + 1}`, value: String(i) }))}
            value={String(index)}
            onChange={(value) => setStep(Number(value))}
          />
          <Select
            label="Shopper's language"
            options={LANGUAGES.map(([label, value]) => ({ label, value }))}
            value={language}
            onChange={chooseLanguage}
            helpText="The shopper's locale chooses; others get English."
          />
          <Select
            label="Example shopper's currency"
            options={CURRENCIES.map((code) => ({ label: code, value: code }))}
            value={currency}
            onChange={setCurrency}
          />
        </InlineGrid>
      </Card>
      <Tabs tabs={CHANNELS} selected={channel} onSelect={setChannel} />
      <InlineGrid columns={{ xs: 1, lg: 2 }} gap="400">
        <Card>
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">{`${current.name || `Step ${index + 1}`}: ${CHANNELS[channel].content}`}</Text>
            <FormLayout>
              <Select
                label="Template"
                options={TEMPLATES[channelId].map(([label, value]) => ({ label, value }))}
                value={current.templates?.[channelId] ?? TEMPLATES[channelId][0][1]}
                onChange={(value) => edit((d) => { d.steps[index].templates = { ...(d.steps[index].templates ?? {}), [channelId]: value }; })}
                error={fieldError(errors, `steps[${index}].templates.${channelId}`)}
              />
              {FIELDS[channelId].map((field) => (
                <TextField
                  key={`${channelId}-${language}-${field}`}
                  label={FIELD_LABELS[field]}
                  value={own[field] ?? ''}
                  placeholder={templateCopy[field] ?? ''}
                  multiline={MULTILINE.has(field) ? 3 : undefined}
                  onChange={(value) => setField(field, value)}
                  error={fieldError(errors, `steps[${index}].copy.${channelId}.${language}.${field}`)}
                  autoComplete="off"
                />
              ))}
            </FormLayout>
            <Text as="p" tone="subdued">
              Leave a field empty to keep the template's words (shown greyed). Variables:{' '}
              {variables.map((v) => `{{ ${v.name} }}`).join(', ')}.
            </Text>
          </BlockStack>
        </Card>
        <Card>
          <BlockStack gap="300">
            <InlineStack align="space-between" blockAlign="center">
              <Text as="h2" variant="headingMd">Preview</Text>
              {channelId === 'email' && <Button onClick={sendTest} loading={test?.sending}>Send me a test</Button>}
            </InlineStack>
            {test?.text && <Banner tone={test.tone}>{test.text}</Banner>}
            {problem && <Banner tone="critical" title="The preview could not be rendered">{problem}</Banner>}
            {/* The preview's room is kept while it loads, so nothing below it moves. */}
            {!preview && <div style={{ minHeight: channelId === 'email' ? '680px' : '120px' }} aria-busy="true" />}
            {preview && channelId === 'email' && <EmailPreview email={preview.email} />}
            {preview && channelId === 'sms' && <SmsPreview sms={preview.sms} />}
            {preview && channelId === 'push' && <PushPreview push={preview.push} />}
          </BlockStack>
        </Card>
      </InlineGrid>
    </BlockStack>
  );
}
