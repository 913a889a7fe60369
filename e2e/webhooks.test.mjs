// End-to-end: a webhook receiver written as the README shows, verifying
// seatgraph's signatures with the `standardwebhooks` npm package. The
// server delivers a tenant's events to the endpoint it registers, signed
// with the secret shown once at registration.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { seatgraph, tenants, token } from './lib/harness.mjs';

describe('webhooks verified with standardwebhooks', () => {
  const deliveries = [];
  let waiting = null;
  let receiver;

  before(async () => {
    // The receiver keeps each request's raw body and headers: a signature
    // is over the exact bytes.
    receiver = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
        res.writeHead(204).end();
        waiting?.();
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  after(() => receiver.close());

  const next = () =>
    deliveries.length > 0
      ? Promise.resolve(deliveries.shift())
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no delivery within 20 s')), 20_000);
          waiting = () => {
            clearTimeout(timer);
            waiting = null;
            resolve(deliveries.shift());
          };
        });

  test('a delivery verifies with the secret, and a tampered one does not', async () => {
    const admin = token(tenants().b, ['admin', 'directory:write']);
    const url = `http://127.0.0.1:${receiver.address().port}/seatgraph`;
    const created = await seatgraph(
      `mutation($url: String!) { createWebhookEndpoint(input: {url: $url, eventTypes: ["person.created"]}) {
        endpoint { id } secret userErrors { message } } }`,
      { variables: { url }, token: admin },
    );
    const { secret, userErrors } = created.createWebhookEndpoint;
    assert.deepEqual(userErrors, []);
    assert.match(secret, /^whsec_/);

    const email = `hook-${Date.now()}@globex.example`;
    await seatgraph(`mutation($email: String!) { createPerson(input: {email: $email}) { person { id } } }`, {
      variables: { email },
      token: admin,
    });
    const { body, headers } = await next();

    const wh = new Webhook(secret);
    const event = wh.verify(body, headers);
    assert.equal(event.type, 'person.created');
    assert.equal(event.data.object.email, email);
    assert.match(headers['webhook-id'], /^evt_/);

    assert.throws(() => wh.verify(body.replace(email, 'mallory@evil.example'), headers));
    assert.throws(() => new Webhook(`whsec_${Buffer.from('another secret key').toString('base64')}`).verify(body, headers));
  });
});
