// `npm run deploy [-- <sam deploy options>]`: `sam build`, then `sam deploy --guided` with the options given, once the
// AWS credentials have answered. `sam deploy --guided` asks every question first and needs credentials only after
// them (to find or make its artifacts bucket: aws-sam-cli samcli/commands/deploy/guided_context.py, `guided_prompts`
// calls `manage_stack` after the last prompt), and it saves the answers to samconfig.toml only once that worked: with
// no credentials, or expired ones, a person would type every answer and lose them all. One `aws sts
// get-caller-identity` (it needs no permission: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)
// answers first, under the same profile and region options `sam` gets. SAM asks for a parameter by its name and
// default only (guided_context.py, `prompt_parameters`), so what each decides, template.yaml's Description, is
// printed just before the questions, in the order SAM asks them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { awsCli } from './awsCli.mjs';

const args = process.argv.slice(2);

/** The value of `--<name> <value>` or `--<name>=<value>` among `sam`'s options, to pass the same to the AWS CLI. */
function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]?.startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

const NO_CREDENTIALS =
  'Sign in first (aws configure, aws sso login, or AWS_PROFILE=<profile>), then run this again: sam deploy --guided ' +
  'asks every question before it needs credentials and keeps no answer when they fail.';
const profile = option('profile');
const region = option('region');
const identity = JSON.parse(
  awsCli(
    'deploy',
    [
      'sts',
      'get-caller-identity',
      '--output',
      'json',
      ...(profile ? ['--profile', profile] : []),
      ...(region ? ['--region', region] : []),
    ],
    NO_CREDENTIALS,
  ),
);
process.stdout.write(`Deploying as ${identity.Arn} (account ${identity.Account}).\n`);

/** Runs `sam <samArgs>` on this terminal; ends the process with its status when it fails. */
function sam(samArgs) {
  const { status, error } = spawnSync('sam', samArgs, { stdio: 'inherit' });
  if (error?.code === 'ENOENT') {
    process.stderr.write(
      'deploy: the AWS SAM CLI is not installed (1.160 or later: README, "Deploy to AWS")\n',
    );
    process.exit(1);
  }
  if (status !== 0) process.exit(status ?? 1);
}

/** One line per parameter of template.yaml, as SAM will ask them: its name and what it decides. */
function questions() {
  const text = readFileSync(new URL('../template.yaml', import.meta.url), 'utf8');
  // Only Parameters is read: the CloudFormation tags (!Ref, !Sub) elsewhere are of no concern here.
  const { Parameters: parameters } = parse(text, { logLevel: 'silent' });
  return [
    'sam deploy --guided asks for each parameter by name, its default in brackets (Enter keeps it):',
    ...Object.entries(parameters).map(
      ([name, p]) =>
        `  ${name}: ${String(p.Description ?? '')
          .replace(/\s+/g, ' ')
          .trim()}`,
    ),
    "  then SAM's own (confirm changes, IAM roles, rollback, save): Enter on each deploys and saves the answers.",
    '',
  ].join('\n');
}

sam(['build']);
process.stdout.write(questions());
sam(['deploy', '--guided', ...args]);
