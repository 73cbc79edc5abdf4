/**
 * EventBridge's quotas differ by Region (EventBridge user guide, "Amazon EventBridge quotas":
 * docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html, "PutEvents throttle limit in transactions per
 * second" and "Invocations throttle limit in transactions per second"; both soft). The model takes a Region
 * (`--region`, default us-east-1) and runs the AWS profile with that Region's two quotas; every other quota of the
 * profile is the same in every Region.
 */
import type { AwsProfile } from '../local/awsProfile';

/*
 * Step Functions' Express start quota is the same in every Region, so it is not in REGIONS: StartExecution for Express
 * is a bucket of 6,000 refilled 6,000 a second both in us-east-1, us-west-2 and eu-west-1 and in all other Regions; only
 * Standard's differs by Region (1,300 / 300 there, 800 / 150 elsewhere) (Step Functions developer guide, "Step
 * Functions service quotas", "Quotas related to API action throttling":
 * docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). StartSyncExecution has no rate in that table:
 * the page says synchronous Express calls do not count against the account's capacity, and gives their concurrent
 * executions as 1,000–3,700 "varies per region", with no figure per Region. The model still holds the pipe's
 * StartSyncExecution to the StartExecution bucket (tools/local/awsProfile.ts: the reading that binds first), and the
 * pipe's 1,000 executions at once (its Gauge) is within the lowest synchronous concurrency of any Region.
 */

const EB_QUOTAS = 'docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html';

/** PutEvents requests and rule invocations a second, by Region: the page's tiers (18,750 / 4,500 / 2,250 / 750
 * invocations, as listed there, with PutEvents 10,000 / 2,400 / 1,200 / 400 in the same tiers). */
export const REGIONS: Record<string, { putEvents: number; invocations: number }> = {
  'us-east-1': { putEvents: 10_000, invocations: 18_750 },
  'us-west-2': { putEvents: 10_000, invocations: 18_750 },
  'eu-west-1': { putEvents: 10_000, invocations: 18_750 },
  'us-east-2': { putEvents: 2_400, invocations: 4_500 },
  'eu-central-1': { putEvents: 2_400, invocations: 4_500 },
  'us-west-1': { putEvents: 1_200, invocations: 2_250 },
  'eu-west-2': { putEvents: 1_200, invocations: 2_250 },
  'ap-northeast-1': { putEvents: 1_200, invocations: 2_250 },
  'ap-southeast-1': { putEvents: 1_200, invocations: 2_250 },
  'ap-southeast-2': { putEvents: 1_200, invocations: 2_250 },
  'af-south-1': { putEvents: 400, invocations: 750 },
  'eu-south-1': { putEvents: 400, invocations: 750 },
  'ap-northeast-3': { putEvents: 400, invocations: 750 },
  'ap-southeast-3': { putEvents: 400, invocations: 750 },
};

/** The profile with a Region's EventBridge quotas, or a clear error naming the Regions the model knows. */
export function profileInRegion(profile: AwsProfile, region: string): AwsProfile {
  const quotas = REGIONS[region];
  if (!quotas)
    throw new Error(`unknown Region "${region}": the model knows ${Object.keys(REGIONS).join(', ')}`);
  return {
    ...profile,
    name: `${profile.name} ${region}`,
    quotas: {
      ...profile.quotas,
      eventBridgePutEventsPerSecond: { value: quotas.putEvents, source: `${EB_QUOTAS} (${region})` },
      eventBridgeRuleInvocationsPerSecond: { value: quotas.invocations, source: `${EB_QUOTAS} (${region})` },
    },
  };
}
