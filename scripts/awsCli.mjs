// The AWS CLI as the operator scripts call it (publish-web, settings): its output on success; on failure one sentence
// naming the command and the CLI's own reason (no credentials, no region, no such stack), then exit 1, never a Node
// stack trace. A missing CLI says how to get it.
import { execFileSync } from 'node:child_process';

/** The CLI's reason: the last non-empty line it wrote to stderr ("An error occurred ... : Stack with id x does not exist"). */
function reasonOf(error) {
  if (error.code === 'ENOENT') return 'the AWS CLI v2 is not installed (https://docs.aws.amazon.com/cli/)';
  const lines = String(error.stderr ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.at(-1) ?? `it exited with status ${error.status}`;
}

/**
 * Runs `aws <args>` and returns its stdout, or ends the process with `<script>: aws <service> <op> failed: <reason>`
 * (and `hint`, when given, on the next line).
 */
export function awsCli(script, args, hint) {
  try {
    return execFileSync('aws', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    process.stderr.write(`${script}: aws ${args.slice(0, 2).join(' ')} failed: ${reasonOf(error)}\n`);
    if (hint) process.stderr.write(`${hint}\n`);
    process.exit(1);
  }
}
