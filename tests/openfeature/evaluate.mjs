// Evaluates flags through the OpenFeature Node server SDK and its OFREP provider against a
// running pg_ab gateway: the same stdin/stdout contract as evaluate.py.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'));

await OpenFeature.setProviderAndWait(
  new OFREPProvider({ baseUrl: process.env.OFREP_URL, headers: [['Authorization', `Bearer ${process.env.SDK_TOKEN}`]] }),
);
const client = OpenFeature.getClient();
const resolve = {
  string: (flag, fallback, context) => client.getStringDetails(flag, fallback, context),
  object: (flag, fallback, context) => client.getObjectDetails(flag, fallback, context),
  boolean: (flag, fallback, context) => client.getBooleanDetails(flag, fallback, context),
  number: (flag, fallback, context) => client.getNumberDetails(flag, fallback, context),
};

const results = [];
for (const request of requests) {
  const context = { ...request.attributes };
  if (request.targetingKey !== null) context.targetingKey = request.targetingKey;
  const details = await resolve[request.type](request.flag, request.default, context);
  results.push({ value: details.value, variant: details.variant ?? null, reason: details.reason ?? null, errorCode: details.errorCode ?? null });
}
process.stdout.write(JSON.stringify(results));
