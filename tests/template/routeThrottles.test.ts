import { join } from 'node:path';
import { deployConstants } from '../../tools/infra/parameters';
import { loadTemplate, readTemplateFile } from '../../tools/infra/template';
import { AWS } from '../../tools/local/awsProfile';

/**
 * The stage's route throttle is one token bucket per route for every client together (API Gateway developer guide,
 * "Throttle requests to your WebSocket APIs"), so sendmessage's bucket is the whole stack's send rate. It is sized
 * from one deploy constant pair (docs/OPERATIONS.md, "Route throttles"): above one room's ceiling and the stack's
 * loads, and with its sends' own posts inside API Gateway's requests per account.
 */
const ROOT = join(__dirname, '..', '..');
const file = readTemplateFile(join(ROOT, 'template.yaml'));
const constants = deployConstants(file.raw);
const api = loadTemplate(file).webSocketApis()[0];
const stage = (
  file.raw.Resources as Record<string, { DependsOn?: unknown; Properties: Record<string, unknown> }>
).WebSocketStage;

it("gives sendmessage its own bucket from the deploy constants, every other route the stage's default", () => {
  expect(api?.routeThrottling?.sendmessage).toEqual({
    rateLimit: Number(constants.SendMessageThrottlingRateLimit),
    burstLimit: Number(constants.SendMessageThrottlingBurstLimit),
  });
  expect(api?.stageThrottling).toEqual({
    rateLimit: Number(constants.RouteThrottlingRateLimit),
    burstLimit: Number(constants.RouteThrottlingBurstLimit),
  });
  expect(stage?.Properties.RouteSettings).toEqual({
    sendmessage: {
      ThrottlingRateLimit: { 'Fn::FindInMap': ['Deploy', 'Settings', 'SendMessageThrottlingRateLimit'] },
      ThrottlingBurstLimit: { 'Fn::FindInMap': ['Deploy', 'Settings', 'SendMessageThrottlingBurstLimit'] },
    },
  });
  // API Gateway refuses route settings naming a route it does not have yet.
  expect([stage?.DependsOn].flat()).toContain('SendMessageRoute');
});

it("holds one room's ceiling and the stack's 2,500 sends/s, with their posts inside the account's requests", () => {
  const rate = Number(constants.SendMessageThrottlingRateLimit);
  const account = AWS.quotas.apiGatewayRequestsPerSecond.value;
  // One room's ceiling in the model is ~600 msg/s; 1,000 rooms × 2 members × 2.5 msg/s is 2,500 sends/s.
  expect(rate).toBeGreaterThanOrEqual(2_500);
  // Rooms of 2: a send and a post to each member, 3 requests; 1,000/s of the account stays for the other routes.
  expect(rate * 3 + 1_000).toBeLessThanOrEqual(account);
  expect(Number(constants.SendMessageThrottlingBurstLimit)).toBeGreaterThanOrEqual(rate);
});
