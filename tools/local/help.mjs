// `npm start -- --help`'s text: the local cloud's options. A module of its own, plain JavaScript that imports nothing,
// so that scripts/start.mjs prints it at once, before (and without) building or loading the cloud, and the cloud's
// command line (tools/local/cli.ts) prints the same text.
export const HELP = `roomcast local cloud: the whole chat from template.yaml on this machine, no AWS account needed.

Usage: npm start -- [options]

  --http-port N               web chat port (default 3000; 0 = any free port)
  --ws-port N                 WebSocket API and management API port (default 3001; 0 = any free port)
  --data-dir DIR              keep DynamoDB data in DIR across restarts (default: in memory)
  --parameter Key=Value       template parameter override, repeatable (e.g. AuthMode=oidc)
  --setting Name=Value        a setting, repeatable (docs/OPERATIONS.md, "Settings"): a runtime one (e.g.
                              SendRateLimit=12) starts in the settings document, which \`npm run settings -- --stack
                              roomcast-local --endpoint-url <Parameter Store>\` changes while the cloud runs; a
                              deploy-time constant (e.g. FanoutChunkSize=50) changes the local template's Mappings
  --api-latency-ms N          delay added to every management-API call, to mimic AWS round trips (default 0)
  --aws-profile NAME          wait AWS's per-call latencies (profile "aws", tools/local/awsProfile.ts) in every local
                              service: DynamoDB, Lambda, Step Functions, EventBridge, SQS, Pipes and the management
                              API (its figure replaces --api-latency-ms). AWS's quotas hold with or without it
  --fault-skip-disconnect S   share 0..1 of closed sockets whose $disconnect never runs (stale connections)
  --fault-throttle S          share 0..1 of management-API posts answered 429
  --fault-put-events S        share 0..1 of PutEvents entries that fail
  --fault-dynamo-throttle S   share 0..1 of the functions' DynamoDB requests answered ProvisionedThroughputExceeded
  --fault-lambda-response-lost S
                              share 0..1 of state machines' Lambda task answers lost after the function ran
  --dynamo-key-limit-scale F  DynamoDB's per-partition-key limits (1,000 WCU/s, 3,000 RCU/s, always enforced) times
                              F, 0.0001..1 (default 1): e.g. 0.02 shows locally which key a design writes too often
  --gsi-lag-ms N              DynamoDB's global secondary indexes show each write N ms after it is answered
                              (default 0), as a GSI's asynchronous update may lag on AWS: e.g. the room index
  --idle-timeout-ms N         close connections idle this long (default 600000, as on AWS)
  --hard-timeout-ms N         close connections this old (default 7200000, as on AWS)
  --lambda-environments N     worker threads (execution environments) running invocations at once, across all
                              functions; further invocations wait their turn, those a client waits for first
                              while background work keeps half (default: one per core; four per core
                              with --aws-profile, whose latencies keep invocations waiting)
  --lambda-concurrency N      the account's concurrency: invocations in flight beyond it (and beyond a function's
                              ReservedConcurrentExecutions) are throttled, TooManyRequestsException (default 1000)
  --log-level L               function logs shown: DEBUG, INFO, WARN or ERROR (default INFO)
  --auth-secret S             HMAC secret of connection tokens when the template enables the $connect authorizer
                              (--parameter AuthMode=token), kept in the local Parameter Store for the authorizer;
                              default: the AUTH_SECRET environment variable.
                              Mint a token with: npm run token -- --username alice --secret S
  --ready-json                print one JSON line instead of the banner once ready, for programs that start the
                              cloud: {"ready":true,"httpUrl":...,"wsUrl":...,"callbackUrl":...,"dynamoEndpoint":...,
                              "eventsEndpoint":...,"restEndpoints":[...],"devIssuerUrl":...,"readyMs":...}
  -h, --help                  show this help

IAM: every function and state machine calls the local services with its own key and only what its template
statements allow (docs/PARITY.md). From outside (scripts, awscurl, the AWS CLI, SDK clients) sign with the local
admin key, which may do anything:
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
Unsigned calls to the management API are refused 403, as on AWS.
`;
