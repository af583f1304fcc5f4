// The baseline of bench/run.sh: what a straightforward Node.js job does with
// the official SDK — page the same window of the same simulator with
// autoPagingEach, one list after the other, fetch only (no diff, no database).
//
//   STRIPE_API_KEY=... NODE_EXTRA_CA_CERTS=ca.pem \
//     node baseline.js --port N --since UNIX --until UNIX [--host 127.0.0.1]
//
// Prints one JSON line: objects, requests, seconds, objects_per_s, requests_per_s.
'use strict';
const Stripe = require('stripe');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback === undefined) throw new Error('missing --' + name);
    return fallback;
  }
  return process.argv[i + 1];
}

async function main() {
  const stripe = new Stripe(process.env.STRIPE_API_KEY, {
    host: arg('host', '127.0.0.1'),
    port: Number(arg('port')),
    protocol: 'https',
    apiVersion: '2025-03-31.basil',
    maxNetworkRetries: 20,  // at 0 ms latency it outruns the 100/s limit: let it back off and finish
    telemetry: false,
  });
  let requests = 0;
  stripe.on('response', () => { requests += 1; });
  const created = { gte: Number(arg('since')), lt: Number(arg('until')) };
  // The same lists as `reconciler run`: the event types it needs, paid
  // invoices and new customers of the window. (Before the thirteenth
  // session also invoice.payment_succeeded and customer.created, which the
  // run no longer pages: its figures before and after do not compare.)
  const types = [
    'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted',
    'invoice.paid', 'charge.refunded', 'charge.dispute.created', 'billing_portal.session.created',
  ];
  const counts = { events: 0, invoices: 0, customers: 0 };
  const start = process.hrtime.bigint();
  await stripe.events.list({ limit: 100, created, types }).autoPagingEach(() => { counts.events += 1; });
  await stripe.invoices.list({ limit: 100, created, status: 'paid' }).autoPagingEach(() => { counts.invoices += 1; });
  await stripe.customers.list({ limit: 100, created }).autoPagingEach(() => { counts.customers += 1; });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const objects = counts.events + counts.invoices + counts.customers;
  console.log(JSON.stringify({
    objects, ...counts, requests, seconds,
    objects_per_s: objects / seconds, requests_per_s: requests / seconds,
  }));
}

main().catch((e) => { console.error('baseline: ' + (e && e.message ? e.message : e)); process.exit(1); });
