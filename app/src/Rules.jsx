// Recovery rules: the list of steps (each switched on or off in the list), one step opened for
// editing (name, description, "send after", channels in order with what each still needs,
// conditions, A/B variants, incentive), and the policies that hold for every step. The API's field
// errors appear beside their fields; nothing is saved until the API accepts the whole draft.

import React, { useState } from 'react';
import {
  Badge, BlockStack, Box, Button, Card, Checkbox, FormLayout, InlineStack, Select, Text, TextField,
} from '@shopify/polaris';
import { fieldError } from './api.js';
import { DELAY_UNITS, readDelay, writeDelay } from './delay.js';
import WhatIf from './WhatIf.jsx';

const CHANNELS = ['email', 'sms', 'push'];
const CHANNEL_NAMES = { email: 'Email', sms: 'SMS', push: 'Push' };
const EMAIL_TEMPLATES = [
  { label: 'Reminder', value: 'reminder' },
  { label: 'Follow-up', value: 'follow_up' },
  { label: 'Last chance', value: 'last_chance' },
];

/** What a channel still needs before a step can use it, or null when it is ready. */
function channelNeeds(channel, settings) {
  if (channel === 'sms' && !settings.sms?.origination_identity) return 'needs an SMS number (Settings)';
  if (channel === 'push') return 'reaches shoppers whose devices your app registered';
  return null;
}

function delayText(text) {
  const delay = readDelay(text);
  if (delay.text !== undefined) return delay.text;
  return `${delay.amount} ${Number(delay.amount) === 1 ? delay.unit.replace(/s$/, '') : delay.unit}`;
}

function DelayField({ value, onChange, error, label }) {
  const delay = readDelay(value);
  if (delay.text !== undefined) {
    return <TextField label={label} value={delay.text} onChange={(text) => onChange(text)} error={error} autoComplete="off" helpText='e.g. "30m", "4h", "3days"' />;
  }
  return (
    <TextField
      label={label}
      type="number"
      min={1}
      value={delay.amount}
      onChange={(amount) => onChange(writeDelay({ amount, unit: delay.unit }))}
      error={error}
      autoComplete="off"
      connectedRight={(
        <Select
          label={`${label}: unit`}
          labelHidden
          options={DELAY_UNITS.map((unit) => ({ label: unit, value: unit }))}
          value={delay.unit}
          onChange={(unit) => onChange(writeDelay({ amount: delay.amount, unit }))}
        />
      )}
    />
  );
}

function numberOrNull(text) {
  return text === '' ? null : Number(text);
}

function StepEditor({ index, step, settings, edit, errors }) {
  const path = `steps[${index}]`;
  const change = (apply) => edit((draft) => apply(draft.steps[index]));
  const channels = step.channels ?? ['email'];
  const move = (from, to) => change((s) => {
    const list = [...(s.channels ?? ['email'])];
    const [moved] = list.splice(from, 1);
    list.splice(to, 0, moved);
    s.channels = list;
  });
  const conditions = step.conditions ?? {};
  const setCondition = (name, value) => change((s) => {
    s.conditions = { ...(s.conditions ?? {}) };
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) delete s.conditions[name];
    else s.conditions[name] = value;
  });
  const variants = step.variants ?? [];
  return (
    <BlockStack gap="400">
      <FormLayout>
        <FormLayout.Group>
          <TextField label="Name" value={step.name} onChange={(name) => change((s) => { s.name = name; })} error={fieldError(errors, `${path}.name`)} autoComplete="off" />
          <DelayField label="Send after (since the cart was last touched)" value={step.delay} onChange={(delay) => change((s) => { s.delay = delay; })} error={fieldError(errors, `${path}.delay`)} />
        </FormLayout.Group>
        <TextField label="Description" value={step.description ?? ''} onChange={(description) => change((s) => { s.description = description; })} multiline={2} autoComplete="off" error={fieldError(errors, `${path}.description`)} />
      </FormLayout>

      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">Channels, in the order they are tried</Text>
        {CHANNELS.map((channel) => {
          const at = channels.indexOf(channel);
          const needs = channelNeeds(channel, settings);
          return (
            <InlineStack key={channel} gap="300" blockAlign="center">
              <Checkbox
                label={CHANNEL_NAMES[channel]}
                checked={at >= 0}
                onChange={(on) => change((s) => {
                  const list = (s.channels ?? ['email']).filter((c) => c !== channel);
                  s.channels = on ? [...list, channel] : list;
                })}
              />
              {at >= 0 && <Badge tone={needs ? 'attention' : 'success'}>{needs ? needs : 'ready'}</Badge>}
              {at > 0 && <Button size="slim" onClick={() => move(at, at - 1)} accessibilityLabel={`Try ${CHANNEL_NAMES[channel]} earlier`}>Earlier</Button>}
              {at >= 0 && at < channels.length - 1 && <Button size="slim" onClick={() => move(at, at + 1)} accessibilityLabel={`Try ${CHANNEL_NAMES[channel]} later`}>Later</Button>}
            </InlineStack>
          );
        })}
        {fieldError(errors, `${path}.channels`) && <Text tone="critical">{fieldError(errors, `${path}.channels`)}</Text>}
      </BlockStack>

      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">Conditions</Text>
        <FormLayout>
          <FormLayout.Group>
            <TextField label="Cart value at least (minor units, e.g. cents)" type="number" value={conditions.cart_value?.min?.toString() ?? ''} onChange={(v) => setCondition('cart_value', { ...(conditions.cart_value ?? {}), min: numberOrNull(v) ?? undefined })} error={fieldError(errors, `${path}.conditions.cart_value`)} autoComplete="off" />
            <Select label="Customer" options={[{ label: 'Any', value: '' }, { label: 'New', value: 'new' }, { label: 'Returning', value: 'returning' }]} value={conditions.customer ?? ''} onChange={(v) => setCondition('customer', v || null)} />
            <Select label="Device" options={[{ label: 'Any', value: '' }, { label: 'Mobile', value: 'mobile' }, { label: 'Desktop', value: 'desktop' }]} value={conditions.device ?? ''} onChange={(v) => setCondition('device', v || null)} />
          </FormLayout.Group>
          <TextField label="Only shoppers in these countries (ISO codes, comma-separated)" value={(conditions.countries_in ?? []).join(', ')} onChange={(v) => setCondition('countries_in', v.split(',').map((c) => c.trim()).filter(Boolean))} error={fieldError(errors, `${path}.conditions.countries_in`)} autoComplete="off" />
        </FormLayout>
      </BlockStack>

      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">A/B variants</Text>
        {variants.map((variant, v) => (
          <InlineStack key={v} gap="200" blockAlign="end">
            <TextField label="Variant name" value={variant.name} onChange={(name) => change((s) => { s.variants[v].name = name; })} error={fieldError(errors, `${path}.variants[${v}].name`)} autoComplete="off" />
            <TextField label="Weight" type="number" min={0} value={String(variant.weight)} onChange={(w) => change((s) => { s.variants[v].weight = Number(w); })} error={fieldError(errors, `${path}.variants[${v}].weight`)} autoComplete="off" />
            <Select label="Email template" options={[{ label: 'The step’s own', value: '' }, ...EMAIL_TEMPLATES]} value={variant.email_template ?? ''} onChange={(t) => change((s) => { if (t) s.variants[v].email_template = t; else delete s.variants[v].email_template; })} />
            <Button tone="critical" variant="plain" onClick={() => change((s) => { s.variants.splice(v, 1); })}>Remove</Button>
          </InlineStack>
        ))}
        {fieldError(errors, `${path}.variants`) && !variants.length && <Text tone="critical">{fieldError(errors, `${path}.variants`)}</Text>}
        <InlineStack>
          <Button onClick={() => change((s) => { s.variants = [...(s.variants ?? []), { name: String.fromCharCode(65 + variants.length), weight: 1 }]; })}>Add variant</Button>
        </InlineStack>
      </BlockStack>

      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">Incentive</Text>
        <Checkbox label="Offer a single-use discount code in this step" checked={Boolean(step.incentive)} onChange={(on) => change((s) => { if (on) s.incentive = { percent: 10 }; else delete s.incentive; })} />
        {step.incentive && (
          <Box maxWidth="200px">
            <TextField label="Discount (percent)" type="number" min={1} max={100} value={String(step.incentive.percent)} onChange={(p) => change((s) => { s.incentive.percent = Number(p); })} error={fieldError(errors, `${path}.incentive`)} autoComplete="off" />
          </Box>
        )}
      </BlockStack>
    </BlockStack>
  );
}

function Policies({ draft, edit, errors }) {
  const policies = draft.policies ?? {};
  const set = (apply) => edit((d) => { d.policies = d.policies ?? {}; apply(d.policies); });
  const quiet = policies.quiet_hours;
  const cap = policies.frequency_cap;
  const incentives = policies.incentives ?? {};
  const setIncentive = (name, value) => set((p) => { p.incentives = { ...(p.incentives ?? {}), [name]: value }; });
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">Policies</Text>
        <FormLayout>
          <Checkbox label="Quiet hours: no message at night in the shopper's time zone" checked={Boolean(quiet)} onChange={(on) => set((p) => { if (on) p.quiet_hours = { start: '21:00', end: '08:00' }; else delete p.quiet_hours; })} />
          {quiet && (
            <FormLayout.Group>
              <TextField label="Quiet from (HH:MM)" value={quiet.start} onChange={(start) => set((p) => { p.quiet_hours.start = start; })} error={fieldError(errors, 'policies.quiet_hours.start')} autoComplete="off" />
              <TextField label="Quiet until (HH:MM)" value={quiet.end} onChange={(end) => set((p) => { p.quiet_hours.end = end; })} error={fieldError(errors, 'policies.quiet_hours.end')} autoComplete="off" />
            </FormLayout.Group>
          )}
          <Checkbox label="Frequency cap: at most a few messages to one shopper in a period" checked={Boolean(cap)} onChange={(on) => set((p) => { if (on) p.frequency_cap = { max_messages: 3, per: '1day' }; else delete p.frequency_cap; })} />
          {cap && (
            <FormLayout.Group>
              <TextField label="At most (messages)" type="number" min={1} value={String(cap.max_messages)} onChange={(v) => set((p) => { p.frequency_cap.max_messages = Number(v); })} error={fieldError(errors, 'policies.frequency_cap.max_messages')} autoComplete="off" />
              <DelayField label="Per" value={cap.per} onChange={(per) => set((p) => { p.frequency_cap.per = per; })} error={fieldError(errors, 'policies.frequency_cap.per')} />
            </FormLayout.Group>
          )}
          <Select
            label="Email consent"
            options={[
              { label: 'Only shoppers who accepted marketing', value: 'marketing_only' },
              { label: 'Any shopper who gave an email (where the law allows cart reminders)', value: 'any_contact' },
            ]}
            value={policies.email_consent ?? 'marketing_only'}
            onChange={(v) => set((p) => { p.email_consent = v; })}
          />
          <FormLayout.Group>
            <TextField label="Holdout share (percent of carts that get no message)" type="number" min={0} max={50} value={String(policies.holdout_percent ?? 0)} onChange={(v) => set((p) => { p.holdout_percent = Number(v); })} error={fieldError(errors, 'policies.holdout_percent')} autoComplete="off" helpText="Needed to measure what Reclaim really recovers." />
            <DelayField label="Attribution window" value={policies.attribution_window ?? '5days'} onChange={(v) => set((p) => { p.attribution_window = v; })} error={fieldError(errors, 'policies.attribution_window')} />
            <DelayField label="Maximum age of a sequence" value={policies.max_sequence_age ?? '14days'} onChange={(v) => set((p) => { p.max_sequence_age = v; })} error={fieldError(errors, 'policies.max_sequence_age')} />
          </FormLayout.Group>
          <Text as="h3" variant="headingSm">Incentive guard</Text>
          <FormLayout.Group>
            <TextField label="Not before step" type="number" min={0} value={String(incentives.not_before_step ?? 0)} onChange={(v) => setIncentive('not_before_step', Number(v))} error={fieldError(errors, 'policies.incentives.not_before_step')} autoComplete="off" />
            <TextField label="Minimum cart value (minor units)" type="number" min={0} value={String(incentives.min_cart_value ?? 0)} onChange={(v) => setIncentive('min_cart_value', Number(v))} error={fieldError(errors, 'policies.incentives.min_cart_value')} autoComplete="off" />
            <TextField label="At most (percent)" type="number" min={1} max={100} value={String(incentives.max_percent ?? 15)} onChange={(v) => setIncentive('max_percent', Number(v))} error={fieldError(errors, 'policies.incentives.max_percent')} autoComplete="off" />
            <TextField label="Once per shopper every (days)" type="number" min={0} value={String(incentives.once_per_contact_days ?? 30)} onChange={(v) => setIncentive('once_per_contact_days', Number(v))} error={fieldError(errors, 'policies.incentives.once_per_contact_days')} autoComplete="off" />
          </FormLayout.Group>
        </FormLayout>
      </BlockStack>
    </Card>
  );
}

export default function Rules({ settings }) {
  const { draft, edit, errors } = settings;
  const [open, setOpen] = useState(null);
  return (
    <BlockStack gap="500">
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">Recovery steps</Text>
          <ul className="reclaim-steps" aria-label="Recovery steps">
            {draft.steps.map((step, index) => (
              <li key={index} className="reclaim-step">
                <Box paddingBlock="300" borderBlockEndWidth="025" borderColor="border">
                  <InlineStack align="space-between" blockAlign="center" gap="300">
                    <BlockStack gap="100">
                      <Text as="h3" variant="headingSm">{step.name || `Step ${index + 1}`}</Text>
                      <Text as="p" tone="subdued">
                        After {delayText(step.delay)} · {(step.channels ?? ['email']).map((c) => CHANNEL_NAMES[c]).join(' → ')}
                        {step.incentive ? ` · ${step.incentive.percent}% off` : ''}
                        {step.variants?.length ? ` · A/B ${step.variants.map((v) => v.name).join('/')}` : ''}
                      </Text>
                      {fieldError(errors, `steps[${index}]`) && open !== index && <Text tone="critical">{fieldError(errors, `steps[${index}]`)}</Text>}
                    </BlockStack>
                    <InlineStack gap="300" blockAlign="center">
                      <Checkbox label={`Enabled: ${step.name || `step ${index + 1}`}`} labelHidden checked={step.enabled !== false} onChange={(on) => edit((d) => { d.steps[index].enabled = on; })} />
                      <Badge tone={step.enabled !== false ? 'success' : undefined}>{step.enabled !== false ? 'On' : 'Off'}</Badge>
                      <Button onClick={() => setOpen(open === index ? null : index)} ariaExpanded={open === index} accessibilityLabel={`${open === index ? 'Close' : 'Edit'} ${step.name || `step ${index + 1}`}`}>{open === index ? 'Close' : 'Edit'}</Button>
                    </InlineStack>
                  </InlineStack>
                  {open === index && (
                    <Box paddingBlockStart="400">
                      <StepEditor index={index} step={step} settings={draft} edit={edit} errors={errors} />
                    </Box>
                  )}
                </Box>
              </li>
            ))}
          </ul>
          <InlineStack gap="200">
            <Button onClick={() => { edit((d) => { d.steps.push({ name: `step ${d.steps.length + 1}`, delay: '3days', enabled: true }); }); setOpen(draft.steps.length); }}>Add step</Button>
            {open !== null && draft.steps.length > 1 && (
              <Button tone="critical" onClick={() => { edit((d) => { d.steps.splice(open, 1); }); setOpen(null); }}>Delete this step</Button>
            )}
          </InlineStack>
        </BlockStack>
      </Card>
      <Policies draft={draft} edit={edit} errors={errors} />
      <WhatIf draft={draft} />
    </BlockStack>
  );
}
