// What-if: before saving, the draft replayed over the shop's own last 30 days of checkouts
// (POST /admin/what-if) beside the saved settings: sends per step and channel, holds and stops by
// reason, and what the incentives would cost.

import React, { useState } from 'react';
import { Banner, BlockStack, Button, Card, DataTable, InlineStack, Text } from '@shopify/polaris';
import { api } from './api.js';
import { money } from './Dashboard.jsx';

const label = (key) => key.replace(/^step(\d+)\.(\w+)$/, (_, step, channel) => `Step ${Number(step) + 1} · ${channel}`).replaceAll('_', ' ');

/** One row per name in either tally, with both figures and the change. */
function rows(current, draft, section) {
  const names = [...new Set([...Object.keys(current[section] ?? {}), ...Object.keys(draft[section] ?? {})])].sort();
  return names.map((name) => {
    const [before, after] = [current[section]?.[name] ?? 0, draft[section]?.[name] ?? 0];
    const change = after - before;
    return [label(name), before, after, change > 0 ? `+${change}` : String(change)];
  });
}

export default function WhatIf({ draft }) {
  const [state, setState] = useState({ running: false, result: null, problem: null });
  const run = async () => {
    setState({ running: true, result: null, problem: null });
    try {
      setState({ running: false, result: await api('/admin/what-if', { method: 'POST', body: { settings: draft } }), problem: null });
    } catch (error) {
      setState({ running: false, result: null, problem: error.message });
    }
  };
  const { result } = state;
  const costs = result ? [...new Set([...Object.keys(result.current.incentive_cost), ...Object.keys(result.draft.incentive_cost)])] : [];
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">What would change</Text>
          <Button onClick={run} loading={state.running}>Run what-if</Button>
        </InlineStack>
        <Text as="p" tone="subdued">Your last 30 days of checkouts, replayed under these settings beside the saved ones. Nothing is sent.</Text>
        {state.problem && <Banner tone="critical" title="The what-if could not run">{state.problem}</Banner>}
        {result && (
          <div data-whatif={result.checkouts}>
            <BlockStack gap="200">
              <Text as="p">{`${result.checkouts} checkout${result.checkouts === 1 ? '' : 's'} replayed.`}</Text>
              <DataTable
                columnContentTypes={['text', 'numeric', 'numeric', 'numeric']}
                headings={['', 'Saved', 'Draft', 'Change']}
                rows={[
                  ...rows(result.current, result.draft, 'sends'),
                  ...rows(result.current, result.draft, 'holds').map(([name, ...rest]) => [`Held: ${name}`, ...rest]),
                  ...rows(result.current, result.draft, 'stops').map(([name, ...rest]) => [`Stopped: ${name}`, ...rest]),
                  ...costs.map((currency) => [
                    `Incentive cost (${currency})`,
                    money(result.current.incentive_cost[currency] ?? 0, currency),
                    money(result.draft.incentive_cost[currency] ?? 0, currency),
                    '',
                  ]),
                ]}
              />
            </BlockStack>
          </div>
        )}
      </BlockStack>
    </Card>
  );
}
