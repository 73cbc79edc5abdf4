#!/usr/bin/env node
// Shows and changes a stack's runtime settings: the JSON document in Parameter Store (the stack's SettingsParameter,
// `/<stack>/settings`) that every function reads, cached a minute, so a change reaches the running functions within
// a minute and needs no deploy. The document holds only overrides; the schema (each setting's type, range and
// default) is functions/platform/settingsSchema.ts, the one source of both this check and the functions'.
//   npm run settings -- --stack roomcast                       prints the effective settings (* = overridden)
//   npm run settings -- --stack roomcast SendRateLimit=20 LobbyPostLimit=   (an empty value = back to the default)
// The document is read with `aws ssm get-parameter` and written with `aws ssm put-parameter --overwrite`
// (scripts/awsCli.mjs). --endpoint-url URL talks to the local cloud's Parameter Store instead (its banner prints the
// command), signed with the local admin key. A deploy-time constant (Mappings.Deploy.Settings in template.yaml) is
// not in the document: naming one says so.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parse as parseYaml } from 'yaml';
import { awsCli } from './awsCli.mjs';
import { loadSettingsSchema } from './settingsSchema.mjs';

const HELP = `Usage: npm run settings -- --stack NAME [--region R] [--endpoint-url URL] [Name=Value ...]
  (no Name=Value) prints every runtime setting in force, its default, and * where the document overrides it
  Name=Value      sets a runtime setting (docs/OPERATIONS.md, "Settings"); Name= removes the override (the default)
  --endpoint-url  the local cloud's Parameter Store (npm start prints it; --stack roomcast-local)`;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`settings: ${message}\n`);
  process.exit(2);
}

let values;
let changes;
try {
  ({ values, positionals: changes } = parseArgs({
    allowPositionals: true,
    options: {
      stack: { type: 'string' },
      region: { type: 'string' },
      'endpoint-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(`${error.message}\n${HELP}`);
}
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (!values.stack) fail(`give the stack with --stack NAME\n${HELP}`);

const { SETTINGS, refusal, brokenRules, DEPLOY_CONSTANTS } = await loadSettingsSchema();

// The deploy-time constants, to answer a change of one with where it lives. Short-form tags carry no meaning here.
const template = parseYaml(readFileSync(join(root, 'template.yaml'), 'utf8'), { logLevel: 'silent' });
const constants = template.Mappings?.Deploy?.Settings ?? {};

/** The change a `Name=Value` asks for: the value typed as the schema says (a number for an integer setting). */
function parseChange(change) {
  const at = change.indexOf('=');
  if (at < 1) fail(`"${change}" is not Name=Value`);
  const name = change.slice(0, at);
  const text = change.slice(at + 1);
  if (name in DEPLOY_CONSTANTS) {
    fail(
      `${name} is a deploy-time constant, not a runtime setting: it lives in template.yaml (Mappings.Deploy.Settings, now ${constants[name]}); edit it there and redeploy (sam build && sam deploy)`,
    );
  }
  const schema = SETTINGS[name];
  if (!schema)
    fail(`there is no setting ${name}; the runtime settings are ${Object.keys(SETTINGS).join(', ')}`);
  if (text === '') return [name, undefined];
  const value = schema.type === 'integer' && /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
  const wrong = refusal(name, value);
  if (wrong) fail(`${wrong}: nothing was written`);
  return [name, value];
}
const parsed = changes.map(parseChange);

const name = `/${values.stack}/settings`;
const regionArgs = values.region ? ['--region', values.region] : [];
const endpoint = values['endpoint-url'];
const local = endpoint
  ? new SSMClient({
      endpoint,
      region: values.region ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
  : undefined;

async function read() {
  let text;
  try {
    text = local
      ? (await local.send(new GetParameterCommand({ Name: name }))).Parameter?.Value
      : awsCli('settings', [
          'ssm',
          'get-parameter',
          '--name',
          name,
          '--query',
          'Parameter.Value',
          '--output',
          'text',
          ...regionArgs,
        ]).trim();
  } catch (error) {
    fail(
      `cannot read ${name}: ${error.message} (is ${values.stack} a roomcast stack, deployed with its settings document?)`,
    );
  }
  try {
    const document = JSON.parse(text ?? '');
    if (typeof document !== 'object' || document === null || Array.isArray(document))
      throw new Error('not an object');
    return document;
  } catch (error) {
    // The functions use the defaults meanwhile (functions/platform/settings.ts); a change rewrites it whole.
    process.stderr.write(`settings: ${name} is not a JSON object (${error.message}); starting from {}\n`);
    return {};
  }
}

async function write(document) {
  const value = JSON.stringify(document);
  try {
    if (local)
      await local.send(
        new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
      );
    else
      awsCli('settings', [
        'ssm',
        'put-parameter',
        '--name',
        name,
        '--value',
        value,
        '--overwrite',
        ...regionArgs,
      ]);
  } catch (error) {
    fail(`cannot write ${name}: ${error.message}`);
  }
}

function show(document, title) {
  const width = Math.max(...Object.keys(SETTINGS).map((n) => n.length));
  const lines = Object.entries(SETTINGS).map(([setting, schema]) => {
    const overridden = Object.hasOwn(document, setting) && refusal(setting, document[setting]) === undefined;
    const value = overridden ? document[setting] : schema.default;
    const invalid =
      Object.hasOwn(document, setting) && !overridden
        ? '  (the document holds an invalid value: ignored)'
        : '';
    return `${overridden ? '*' : ' '} ${setting.padEnd(width)}  ${JSON.stringify(value)}${overridden ? `  (default ${JSON.stringify(schema.default)})` : ''}${invalid}`;
  });
  const unknown = Object.keys(document).filter((n) => !(n in SETTINGS));
  process.stdout.write(
    [
      `${title} (${name}; * = overridden; a change reaches running functions within a minute)`,
      ...lines,
      ...unknown.map((n) => `! ${n} is no runtime setting: the functions ignore it (remove it with ${n}=)`),
      '',
    ].join('\n'),
  );
}

const document = await read();
if (parsed.length === 0) {
  show(document, `Settings of ${values.stack}`);
} else {
  const next = { ...document };
  for (const [setting, value] of parsed) {
    if (value === undefined) delete next[setting];
    else next[setting] = value;
  }
  // The document as the functions would read it: every valid override over the defaults, then the rules between
  // settings (functions/platform/settingsSchema.ts SETTING_RULES), which a write never breaks.
  const inForce = Object.fromEntries(
    Object.entries(SETTINGS).map(([setting, schema]) => [
      setting,
      Object.hasOwn(next, setting) && refusal(setting, next[setting]) === undefined
        ? next[setting]
        : schema.default,
    ]),
  );
  const broken = brokenRules(inForce);
  if (broken.length > 0) fail(`${broken.join('; ')}: nothing was written`);
  await write(next);
  show(next, `Settings of ${values.stack}, written`);
}
