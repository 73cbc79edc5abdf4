#!/usr/bin/env node
// Changes named settings of the `Settings` parameter and keeps all the others. `--parameter-overrides
// "Settings=..."` replaces the whole string, so overriding one setting by hand silently drops every other one the
// stack had; this command reads the current string (the deployed stack's, or a samconfig.toml profile's), changes
// only the settings named, checks the result against template.yaml's AllowedPattern and prints the `sam deploy`
// command that applies it, or runs it with --deploy.
//   npm run settings -- --stack roomcast SendRateLimit=20 LobbyPostLimit=   (an empty value = back to the default)
//   npm run settings -- --config-env demo SendRateLimit=20 --deploy
// --stack reads the stack's parameters with the AWS CLI (--parameters-file F reads them from a JSON file instead,
// [{ParameterKey, ParameterValue}] as `describe-stacks --query Stacks[0].Parameters` prints them). The other
// parameters keep their values: SAM passes UsePreviousValue for each parameter not overridden, and with
// --config-env the profile's other parameter_overrides are passed again.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { awsCli } from './awsCli.mjs';

const HELP = `Usage: npm run settings -- (--stack NAME [--region R] | --config-env ENV) Name=Value ... [--deploy]
  Name=Value   sets a setting (docs/OPERATIONS.md, "Settings"); Name= removes it (back to its default)
  --deploy     runs the printed sam deploy command (after sam build)`;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`settings: ${message}\n${HELP}\n`);
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
      'config-env': { type: 'string' },
      'parameters-file': { type: 'string' },
      samconfig: { type: 'string', default: join(root, 'samconfig.toml') },
      deploy: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (Boolean(values.stack) === Boolean(values['config-env'])) fail('give either --stack or --config-env');
if (changes.length === 0) fail('name at least one setting to change, as Name=Value');

// The settings template.yaml knows (its defaults) and the values CloudFormation accepts (the AllowedPattern).
// CloudFormation's short-form tags (!Ref, ...) carry no meaning here, so they are read as plain values.
const template = parseYaml(readFileSync(join(root, 'template.yaml'), 'utf8'), { logLevel: 'silent' });
const known = Object.keys(template.Mappings.Settings.Defaults);
const allowed = new RegExp(`^(?:${template.Parameters.Settings.AllowedPattern})$`);

/** A Settings string as an ordered map; the first value of a name is the one the template reads. */
function parseSettings(text) {
  const settings = new Map();
  for (const item of text.split(',').filter((i) => i !== '')) {
    const at = item.indexOf('=');
    const name = at < 0 ? item : item.slice(0, at);
    if (!settings.has(name)) settings.set(name, at < 0 ? '' : item.slice(at + 1));
  }
  return settings;
}

/** samconfig.toml's parameter_overrides (`Key="value" Key2=value2`) as an ordered map. */
function parseOverrides(text) {
  const overrides = new Map();
  for (const [, key, quoted, plain] of text.matchAll(/([A-Za-z0-9]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g))
    overrides.set(key, quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : plain);
  return overrides;
}

const regionArgs = values.region ? ['--region', values.region] : [];
let source;
let current;
let deploy;
if (values.stack) {
  const parameters = values['parameters-file']
    ? JSON.parse(readFileSync(values['parameters-file'], 'utf8'))
    : JSON.parse(
        awsCli('settings', [
          'cloudformation',
          'describe-stacks',
          '--stack-name',
          values.stack,
          '--query',
          'Stacks[0].Parameters',
          '--output',
          'json',
          ...regionArgs,
        ]),
      );
  const settings = parameters.find((p) => p.ParameterKey === 'Settings');
  if (!settings) fail(`the stack ${values.stack} has no Settings parameter: is it a roomcast stack?`);
  source = `the stack ${values.stack}`;
  current = settings.ParameterValue ?? '';
  deploy = (next) => [['--stack-name', values.stack, ...regionArgs], new Map([['Settings', next]])];
} else {
  const env = values['config-env'];
  const profile = parseToml(readFileSync(values.samconfig, 'utf8'))[env];
  if (!profile) fail(`${values.samconfig} has no [${env}.*] profile`);
  const overrides = parseOverrides(profile.deploy?.parameters?.parameter_overrides ?? '');
  source = `samconfig.toml's ${env} profile`;
  current = overrides.get('Settings') ?? '';
  deploy = (next) => [['--config-env', env], new Map([...overrides, ['Settings', next]])];
}

const settings = parseSettings(current);
for (const change of changes) {
  const at = change.indexOf('=');
  if (at < 1) fail(`"${change}" is not Name=Value`);
  const name = change.slice(0, at);
  if (!known.includes(name)) fail(`there is no setting ${name}; the settings are ${known.join(', ')}`);
  const value = change.slice(at + 1);
  if (value === '') settings.delete(name);
  else settings.set(name, value);
}
const next = [...settings].map(([name, value]) => `${name}=${value}`).join(',');
if (!allowed.test(next))
  fail(
    `template.yaml's Settings AllowedPattern refuses "${next}": check each value's range (docs/OPERATIONS.md)`,
  );

const [where, overrides] = deploy(next);
// One string of space-separated Key=Value pairs, as samconfig.toml stores them; an empty value or one with a space
// is quoted.
const overrideArg = [...overrides]
  .map(([key, value]) =>
    value === '' || /[\s"]/.test(value) ? `${key}="${value.replace(/(["\\])/g, '\\$1')}"` : `${key}=${value}`,
  )
  .join(' ');
const samArgs = ['deploy', ...where, '--parameter-overrides', overrideArg];
const shellQuote = (arg) => (/^[A-Za-z0-9_./:=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
process.stdout.write(
  [
    `Settings now (${source}): ${current === '' ? '(every default)' : current}`,
    `Settings next: ${next === '' ? '(every default)' : next}`,
    `sam ${samArgs.map(shellQuote).join(' ')}`,
    '',
  ].join('\n'),
);
if (values.deploy) {
  try {
    execFileSync('sam', samArgs, { stdio: 'inherit' });
  } catch (error) {
    // sam has printed why; its exit status is this command's.
    process.exit(error.status ?? 1);
  }
}
