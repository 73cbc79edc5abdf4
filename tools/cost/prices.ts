// Every AWS price the cost model uses, in one place: USD, region us-east-1 (US East, N. Virginia), on-demand,
// no free tier, no Savings Plans, no data transfer.
//
// These are list prices as known to the author on the date given with each one (`asOf`), transcribed from the AWS
// pricing page named in `source`. They were NOT fetched live. AWS changes prices (DynamoDB on-demand halved on
// 2024-11-01, for instance): re-check every value against the pages below before relying on a figure, and update
// `asOf` when you do.

export interface Tier {
  /** Units this tier covers (per month); Infinity for the last tier. */
  upTo: number;
  /** USD per one unit. */
  usd: number;
}

export interface Price {
  /** Human description of the unit billed. */
  unit: string;
  /** USD per unit, by monthly volume tier (the first tier applies first). */
  tiers: readonly Tier[];
  region: 'us-east-1';
  /** Date the value was last known to be the list price (YYYY-MM-DD). */
  asOf: string;
  /** Where the value comes from. */
  source: string;
}

const flat = (usd: number): Tier[] => [{ upTo: Number.POSITIVE_INFINITY, usd }];
const PER_MILLION = 1e-6;

export const PRICES = {
  // ---------------------------------------------------------------- API Gateway WebSocket API
  apigwWsMessages: {
    unit: 'message (each 32 KB of a frame is one message; inbound frames, route responses and @connections posts)',
    tiers: [
      { upTo: 1e9, usd: 1.0 * PER_MILLION },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.8 * PER_MILLION },
    ],
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs)',
  },
  apigwWsConnectionMinutes: {
    unit: 'connection minute',
    tiers: flat(0.25 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs)',
  },
  // The admin broadcast API (BroadcastApi) is a REST API (AWS::Serverless::Api), billed per call received.
  apigwRestRequests: {
    unit: 'REST API call received',
    tiers: [
      { upTo: 333e6, usd: 3.5 * PER_MILLION },
      { upTo: 1e9, usd: 2.8 * PER_MILLION },
      { upTo: 20e9, usd: 2.38 * PER_MILLION },
      { upTo: Number.POSITIVE_INFINITY, usd: 1.51 * PER_MILLION },
    ],
    region: 'us-east-1',
    asOf: '2026-11-24',
    source:
      'https://aws.amazon.com/api-gateway/pricing/ (REST APIs; tiers also in the whitepaper https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html)',
  },

  // ---------------------------------------------------------------- Lambda (arm64, the template's architecture)
  lambdaRequests: {
    unit: 'request (invocation)',
    tiers: flat(0.2 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  lambdaArmGbSeconds: {
    unit: 'GB-second of arm64 duration (1 ms granularity, memory as configured)',
    tiers: [
      { upTo: 7.5e9, usd: 0.0000133334 },
      { upTo: 18.75e9, usd: 0.0000120001 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.0000106667 },
    ],
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/lambda/pricing/ (Arm price, monthly aggregate duration tiers)',
  },

  // ---------------------------------------------------------------- EventBridge
  eventbridgeCustomEvents: {
    unit: 'custom event published (each 64 KB chunk of an entry is one event)',
    tiers: flat(1.0 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/eventbridge/pricing/ (event bus, custom events)',
  },
  eventbridgePipesRequests: {
    unit: 'EventBridge Pipes request (each event entering the pipe, per 64 KB chunk)',
    tiers: flat(0.4 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/eventbridge/pricing/ (Pipes)',
  },

  // ---------------------------------------------------------------- SQS
  sqsFifoRequests: {
    unit: 'SQS FIFO request (SendMessage, ReceiveMessage, DeleteMessageBatch; each 64 KB chunk is one request)',
    tiers: flat(0.5 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/sqs/pricing/ (FIFO queues, beyond the free tier)',
  },

  // ---------------------------------------------------------------- Step Functions Express
  sfnExpressRequests: {
    unit: 'Express workflow request (execution started)',
    tiers: flat(1.0 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/step-functions/pricing/ (Express Workflows)',
  },
  sfnExpressGbSeconds: {
    unit: 'GB-second of Express duration (billed in 100 ms and 64 MB increments)',
    // Tiers are per GB-hour in the price list: first 1,000 GB-hours, next 4,000 GB-hours, beyond.
    tiers: [
      { upTo: 1000 * 3600, usd: 0.00001667 },
      { upTo: 5000 * 3600, usd: 0.00000833 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.00000456 },
    ],
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/step-functions/pricing/ (Express Workflows)',
  },

  // ---------------------------------------------------------------- DynamoDB on-demand (after the 2024-11-01 cut)
  dynamoWriteRequestUnits: {
    unit: 'write request unit (1 per 1 KB of item written, standard table class)',
    tiers: flat(0.625 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoReadRequestUnits: {
    unit: 'read request unit (1 per 4 KB strongly consistent; 0.5 eventually consistent)',
    tiers: flat(0.125 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoStorageGbMonth: {
    unit: 'GB-month of table storage (standard table class, first 25 GB are free tier and not deducted)',
    tiers: flat(0.25),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },

  // ---------------------------------------------------------------- observability the template turns on
  cloudwatchLogsIngestedGb: {
    unit: 'GB of log data ingested (Lambda and Step Functions logs; first tier of 10 TB)',
    tiers: flat(0.5),
    region: 'us-east-1',
    asOf: '2026-11-22',
    source:
      'https://aws.amazon.com/cloudwatch/pricing/ (Logs: collect/ingest; $0.50/GB also in https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/)',
  },
  xrayTracesRecorded: {
    unit: 'trace recorded (sampled)',
    tiers: flat(5.0 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2026-11-22',
    source: 'https://aws.amazon.com/xray/pricing/ ($5.00 per million traces recorded beyond the free tier)',
  },
  cloudwatchCustomMetricMonths: {
    unit: 'custom metric-month (each metric name and dimension set; the EMF metrics Powertools writes count)',
    tiers: [
      { upTo: 10_000, usd: 0.3 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.1 },
    ],
    region: 'us-east-1',
    asOf: '2026-11-22',
    source:
      'https://aws.amazon.com/cloudwatch/pricing/ (Metrics: first 10,000 metrics $0.30 per metric-month)',
  },

  // ---------------------------------------------------------------- S3 (the attachments bucket, S3 Standard)
  s3PutRequests: {
    unit: 'PUT, COPY, POST or LIST request (a browser upload by presigned POST is one)',
    tiers: flat(0.005 / 1000),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/s3/pricing/ (Requests & data retrievals, S3 Standard)',
  },
  s3GetRequests: {
    unit: 'GET, SELECT or other request (HeadObject and presigned GETs are each one)',
    tiers: flat(0.0004 / 1000),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/s3/pricing/ (Requests & data retrievals, S3 Standard)',
  },
  s3StorageGbMonth: {
    unit: 'GB-month of S3 Standard storage (first 50 TB per month)',
    tiers: flat(0.023),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/s3/pricing/ (Storage, S3 Standard)',
  },
  dataTransferOutGb: {
    unit: 'GB transferred out to the internet (first 10 TB per month; the 100 GB/month free tier not deducted)',
    tiers: flat(0.09),
    region: 'us-east-1',
    asOf: '2024-11-01',
    source:
      'https://aws.amazon.com/s3/pricing/ (Data Transfer, out to the internet) and https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer',
  },

  // ---------------------------------------------------------------- AppSync Events (comparison only)
  appsyncEventsOperations: {
    unit: 'Event API operation (publish, each message delivered to a subscriber; metered in 5 KB increments)',
    tiers: flat(1.0 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-10-30',
    source: 'https://aws.amazon.com/appsync/pricing/ (AppSync Events, launched 2024-10-30)',
  },
  appsyncEventsConnectionMinutes: {
    unit: 'real-time connection minute',
    tiers: flat(0.08 * PER_MILLION),
    region: 'us-east-1',
    asOf: '2024-10-30',
    source: 'https://aws.amazon.com/appsync/pricing/ (AppSync Events)',
  },
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof PRICES;
export type PriceTable = Record<PriceId, Price>;

/** Metering increments that the price units above refer to. */
export const METERING = {
  apigwMessageBytes: 32 * 1024,
  eventbridgeEventBytes: 64 * 1024,
  sfnBilledMs: 100,
  sfnBilledMb: 64,
  dynamoWriteUnitBytes: 1024,
  /** A transactional write costs two write units per 1 KB of each item (DynamoDB's pricing page). */
  transactionalWriteFactor: 2,
  dynamoReadUnitBytes: 4096,
  /** Scan and Query read at most 1 MB per page; each page is rounded up to 4 KB on its own. */
  dynamoPageBytes: 1024 * 1024,
  appsyncEventBytes: 5 * 1024,
  lambdaBilledMs: 1,
} as const;
