// The dashboard: what Reclaim did in a date range, and, as the headline, what it caused: orders
// and revenue measured against the holdout with a 95% interval, or "not enough data yet". The
// figures are `/admin/stats` as it returns them (the same counters, the same estimate); the chart
// is the day-by-day CSV export drawn with uPlot, with the same numbers as a table beside it.

import React, { useCallback, useEffect, useRef, useState } from 'react';
import Papa from 'papaparse';
import uPlot from 'uplot';
import {
  Banner, BlockStack, Button, Card, DataTable, InlineGrid, InlineStack, SkeletonBodyText, Text, TextField,
} from '@shopify/polaris';
import { api } from './api.js';
import Onboarding, { loadChecklist } from './Onboarding.jsx';

const DAY = 24 * 60 * 60 * 1000;
const isoDay = (date) => date.toISOString().slice(0, 10);

/** Minor units of `currency` as the merchant's locale writes money. */
export function money(minor, currency, locale = navigator.language) {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

const sum = (counters, test) => Object.entries(counters).filter(([name]) => test(name)).reduce((total, [, n]) => total + n, 0);
const byPrefix = (counters, prefix) => Object.entries(counters).filter(([name]) => name.startsWith(prefix)).map(([name, n]) => [name.slice(prefix.length), n]);

/** The headline figures from the counters, each with the counter it comes from. */
export function headline(counters) {
  const abandoned = counters.abandoned ?? 0;
  const recovered = counters['recovered.orders'] ?? 0;
  return {
    abandoned,
    sent: sum(counters, (n) => /^(email|sms|push)\.sent$/.test(n)),
    clicks: sum(counters, (n) => /^clicks\.step\d+$/.test(n)),
    recovered,
    rate: abandoned ? recovered / abandoned : null,
    revenue: byPrefix(counters, 'recovered.revenue.'),
  };
}

function Metric({ label, value, counter }) {
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm" tone="subdued">{label}</Text>
        <Text as="p" variant="headingLg"><span data-counter={counter}>{typeof value === 'number' ? value.toLocaleString() : value}</span></Text>
      </BlockStack>
    </Card>
  );
}

function LiftCard({ lift }) {
  if (!lift) return null;
  const percent = (x) => `${(x * 100).toFixed(1)} pts`;
  if (lift.status !== 'estimated') {
    return (
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">What Reclaim caused</Text>
          <Text as="p"><span data-lift="not_enough_data">
            Not enough data yet: the estimate needs {lift.needed_per_group} carts in each group. So far {lift.reminded.carts} reminded
            and {lift.holdout.carts} in the holdout.
          </span></Text>
        </BlockStack>
      </Card>
    );
  }
  const orders = lift.incremental_orders;
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">What Reclaim caused</Text>
        <Text as="p" variant="headingXl"><span data-lift="orders">{Math.round(orders.estimate)} orders</span></Text>
        <Text as="p"><span data-lift="interval">
          95% interval: {Math.round(orders.low)} to {Math.round(orders.high)} orders; conversion {percent(lift.rate_difference.estimate)} above the holdout
          ({percent(lift.rate_difference.low)} to {percent(lift.rate_difference.high)}).
        </span></Text>
        {Object.entries(lift.incremental_revenue).map(([currency, revenue]) => (
          <Text as="p" key={currency}>
            Revenue: {money(revenue.estimate, currency)} ({money(revenue.low, currency)} to {money(revenue.high, currency)})
          </Text>
        ))}
        <Text as="p" tone="subdued">
          Measured against {lift.holdout.carts} carts held out at random ({lift.holdout.orders} ordered anyway) and {lift.reminded.carts} reminded
          ({lift.reminded.orders} ordered).
        </Text>
      </BlockStack>
    </Card>
  );
}

function Chart({ rows }) {
  const target = useRef(null);
  useEffect(() => {
    if (!target.current || !rows.length) return undefined;
    const x = rows.map((r) => Date.parse(`${r.day}T00:00:00Z`) / 1000);
    const series = (name) => rows.map((r) => Number(r[name] ?? 0));
    const sent = rows.map((r) => ['email.sent', 'sms.sent', 'push.sent'].reduce((t, n) => t + Number(r[n] ?? 0), 0));
    const plot = new uPlot(
      {
        width: Math.max(320, target.current.clientWidth),
        height: 220,
        series: [
          {},
          { label: 'Abandoned', stroke: '#8a6116', width: 2 },
          { label: 'Sent', stroke: '#005bd3', width: 2 },
          { label: 'Recovered', stroke: '#29845a', width: 2 },
        ],
        // One day alone would stretch over years: keep a lone point's day in view.
        scales: { x: { time: true, range: (_, min, max) => (min === max ? [min - 86400, max + 86400] : [min, max]) } },
        axes: [{}, { size: 60 }],
      },
      [x, series('abandoned'), sent, series('recovered.orders')],
      target.current,
    );
    return () => plot.destroy();
  }, [rows]);
  return <div ref={target} role="img" aria-label="Abandoned carts, messages sent and orders recovered per day" />;
}

export default function Dashboard() {
  const today = new Date();
  const [range, setRange] = useState({ from: isoDay(new Date(today - 29 * DAY)), to: isoDay(today) });
  const [stats, setStats] = useState(null);
  const [days, setDays] = useState([]);
  const [problem, setProblem] = useState(null);

  // Only the latest request's answer is shown: an earlier one that arrives late is dropped.
  const latest = useRef(0);
  const load = useCallback(async () => {
    const request = ++latest.current;
    setProblem(null);
    try {
      const query = `from=${range.from}&to=${range.to}`;
      const [reply, csv, checklist] = await Promise.all([
        api(`/admin/stats?${query}`),
        api(`/admin/stats.csv?${query}`, { raw: true }).then((r) => r.text()),
        loadChecklist(),
      ]);
      if (request !== latest.current) return;
      setStats({ ...reply, range, checklist });
      setDays(Papa.parse(csv.trim(), { header: true, dynamicTyping: true, skipEmptyLines: true }).data);
    } catch (error) {
      if (request === latest.current) setProblem(error.message);
    }
  }, [range]);

  useEffect(() => { load(); }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const exportCsv = async () => {
    try {
      const response = await api(`/admin/stats.csv?from=${range.from}&to=${range.to}`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement('a'), { href: url, download: `reclaim-${range.from}-${range.to}.csv` });
      link.click();
      URL.revokeObjectURL(url);
    } catch (error) {
      setProblem(error.message);
    }
  };

  const resume = async () => {
    try {
      await api('/admin/sender-health/resume', { method: 'POST' });
    } catch (error) {
      setProblem(error.message);
      return;
    }
    load();
  };

  if (problem) return <Banner tone="critical" title="The figures could not be loaded">{problem}</Banner>;
  if (!stats) return <Card><SkeletonBodyText lines={6} /></Card>;
  const counters = stats.counters;
  const figures = headline(counters);
  const steps = [...new Set(Object.keys(counters).map((n) => /^sent\.step(\d+)\./.exec(n)?.[1]).filter(Boolean))].sort();
  const stepRows = steps.map((step) => [
    `Step ${Number(step) + 1}`,
    ...['email', 'sms', 'push'].map((c) => counters[`sent.step${step}.${c}`] ?? 0),
    counters[`clicks.step${step}`] ?? 0,
    byPrefix(counters, `sent.step${step}.variant.`).map(([v, n]) => `${v}: ${n}`).join(', ') || '—',
  ]);

  return (
    <div data-showing={`${stats.range.from}..${stats.range.to}`}>
    <BlockStack gap="500">
      <Onboarding checklist={stats.checklist} reload={load} />
      {stats.sender_health?.email_paused && (
        <Banner tone="critical" title="Email is paused to protect your sender reputation" action={{ content: 'Resume email', onAction: resume }}>
          {stats.sender_health.pause?.reason ?? 'Bounces or complaints went over the limit.'}
        </Banner>
      )}
      {stats.needs_reauthorisation && (
        <Banner tone="warning" title="Reclaim needs to be authorised again">
          Shopify no longer accepts Reclaim's access. Open Reclaim from your admin's Apps page to authorise it; until then
          reminders go out without discount codes.
        </Banner>
      )}
      <Card>
        <InlineStack gap="300" blockAlign="end">
          <TextField label="From" type="date" value={range.from} onChange={(from) => setRange((r) => ({ ...r, from }))} autoComplete="off" />
          <TextField label="To" type="date" value={range.to} onChange={(to) => setRange((r) => ({ ...r, to }))} autoComplete="off" />
          <Button variant="primary" onClick={load}>Show</Button>
          <Button onClick={exportCsv}>Export CSV</Button>
        </InlineStack>
      </Card>
      <LiftCard lift={stats.lift} />
      <InlineGrid columns={{ xs: 2, md: 5 }} gap="300">
        <Metric label="Carts abandoned" value={figures.abandoned} counter="abandoned" />
        <Metric label="Messages sent" value={figures.sent} counter="sent" />
        <Metric label="Clicks" value={figures.clicks} counter="clicks" />
        <Metric label="Orders recovered" value={figures.recovered} counter="recovered.orders" />
        <Metric label="Recovery rate" value={figures.rate === null ? '—' : `${(figures.rate * 100).toFixed(1)}%`} counter="rate" />
      </InlineGrid>
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">Recovered revenue</Text>
          {figures.revenue.length
            ? figures.revenue.map(([currency, minor]) => <Text as="p" key={currency}><span data-revenue={currency}>{money(minor, currency)}</span></Text>)
            : <Text as="p" tone="subdued">No recovered orders in this range yet.</Text>}
        </BlockStack>
      </Card>
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">Over time</Text>
          <Chart rows={days} />
        </BlockStack>
      </Card>
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">By step, channel and variant</Text>
          <DataTable
            columnContentTypes={['text', 'numeric', 'numeric', 'numeric', 'numeric', 'text']}
            headings={['Step', 'Email', 'SMS', 'Push', 'Clicks', 'Variants']}
            rows={stepRows}
          />
        </BlockStack>
      </Card>
    </BlockStack>
    </div>
  );
}
