// The smaller screens, each a view of the same settings draft: On-site (the storefront script)
// and Settings (time zone and SMS).

import React from 'react';
import { BlockStack, Card, Checkbox, FormLayout, Select, Text, TextField } from '@shopify/polaris';
import { fieldError } from './api.js';

export function OnSite({ settings }) {
  const { draft, edit, errors } = settings;
  const storefront = draft.storefront ?? {};
  const set = (apply) => edit((d) => { d.storefront = d.storefront ?? {}; apply(d.storefront); });
  const answers = storefront.answers ?? {};
  const setAnswer = (name, value) => set((s) => { s.answers = { ...(s.answers ?? {}), [name]: value }; });
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">On your storefront</Text>
        <FormLayout>
          <Checkbox label="Cart rescuer: the browser asks before a shopper with a cart leaves the shop" checked={storefront.cart_rescuer ?? true} onChange={(v) => set((s) => { s.cart_rescuer = v; })} />
          <Checkbox label="Exit-intent help: answers and an optional contact field when a shopper is about to leave" checked={storefront.exit_intent ?? true} onChange={(v) => set((s) => { s.exit_intent = v; })} />
          <Checkbox label="Ask for an email or phone number (with a consent checkbox)" checked={storefront.capture ?? true} onChange={(v) => set((s) => { s.capture = v; })} />
          <Checkbox label="Idle help on the cart page" checked={storefront.idle_help ?? true} onChange={(v) => set((s) => { s.idle_help = v; })} />
          <TextField label="Idle help after (seconds)" type="number" min={5} value={String(storefront.idle_seconds ?? 45)} onChange={(v) => set((s) => { s.idle_seconds = Number(v); })} error={fieldError(errors, 'storefront.idle_seconds')} autoComplete="off" />
          <TextField label="Consent text shown next to the checkbox" value={storefront.consent_text ?? ''} onChange={(v) => set((s) => { s.consent_text = v; })} multiline={2} error={fieldError(errors, 'storefront.consent_text')} autoComplete="off" />
          {['shipping', 'returns', 'payment', 'support'].map((name) => (
            <TextField key={name} label={`Answer about ${name}`} value={answers[name] ?? ''} onChange={(v) => setAnswer(name, v)} multiline={2} error={fieldError(errors, `storefront.answers.${name}`)} autoComplete="off" />
          ))}
          <TextField label="Size guide link" type="url" value={answers.size_guide_url ?? ''} onChange={(v) => setAnswer('size_guide_url', v || null)} error={fieldError(errors, 'storefront.answers.size_guide_url')} autoComplete="off" />
        </FormLayout>
      </BlockStack>
    </Card>
  );
}

export function Settings({ settings }) {
  const { draft, edit, errors } = settings;
  const sms = draft.sms ?? {};
  const setSms = (name, value) => edit((d) => { d.sms = { ...(d.sms ?? {}), [name]: value }; });
  return (
    <BlockStack gap="500">
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">Shop</Text>
          <TextField label="Time zone (IANA name, e.g. America/New_York)" value={draft.timezone ?? ''} onChange={(v) => edit((d) => { d.timezone = v; })} error={fieldError(errors, 'timezone')} autoComplete="off" helpText="Used when a shopper's own time zone is unknown." />
        </BlockStack>
      </Card>
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">SMS</Text>
          <FormLayout>
            <TextField label="Sending number or sender id" value={sms.origination_identity ?? ''} onChange={(v) => setSms('origination_identity', v || null)} error={fieldError(errors, 'sms.origination_identity')} autoComplete="off" helpText="Your operator allows a number for your shop first." />
            <TextField label="Monthly budget (messages)" type="number" min={0} value={String(sms.monthly_budget ?? 0)} onChange={(v) => setSms('monthly_budget', Number(v))} error={fieldError(errors, 'sms.monthly_budget')} autoComplete="off" />
            <TextField label="Program name (in the first message)" value={sms.program_name ?? ''} onChange={(v) => setSms('program_name', v || null)} error={fieldError(errors, 'sms.program_name')} autoComplete="off" />
            <TextField label="Support contact" value={sms.support_contact ?? ''} onChange={(v) => setSms('support_contact', v || null)} error={fieldError(errors, 'sms.support_contact')} autoComplete="off" />
          </FormLayout>
        </BlockStack>
      </Card>
    </BlockStack>
  );
}
