import { SETTINGS } from '#platform/settingsSchema';
import { runModel, type Scenario } from '../../tools/bench/awsModel';
import {
  ceilingNote,
  ceilingSettings,
  fanoutLoadLine,
  loadSettings,
  modelHeader,
  modelTable,
  notClean,
  SCENARIOS,
} from '../../tools/bench/modelRuns';
import { CONNECTION_LIMIT, PERSON_LIMIT, PERSON_SENDS_PER_SECOND } from '../../tools/bench/sendLimits';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS } from '../../tools/local/awsProfile';

/**
 * A sender's send limits in the model (tools/bench/sendLimits.ts): PersonSendRateLimit across a person's connections
 * and SendRateLimit on each, their defaults the settings schema's. A sender past them has its excess refused
 * RATE_LIMITED, the limit named as the quota that binds first; a run that changes them says so. Simulated seconds.
 */

const shipped = stackLimits();
const person = SETTINGS.PersonSendRateLimit.default;
const personWindow = SETTINGS.PersonRateWindowSeconds.default;
const seconds = 10;
/** One room of 10 at 5 messages/s: messages alone, so only the sends' own limits can refuse. */
const room = (senders: number, connectionsPerSender = 1): Scenario => ({
  name: `senders-${senders}`,
  rooms: 1,
  members: 10,
  senders,
  connectionsPerSender,
  rate: 5,
  seconds,
});
const run = (scenario: Scenario, settings = shipped.settings) =>
  runModel({ design: 'wake', scenario, profile: AWS, seed: 11, settings, traffic: false });

describe("a person's send limit", () => {
  it('refuses one sender past PersonSendRateLimit, names it as the quota that binds first, and the run is not clean', () => {
    const one = run(room(1));
    // The bucket's `person` tokens, then its refill: at most person + person / window × seconds of ~50 offered.
    expect(one.sent).toBeLessThanOrEqual(person + (person / personWindow) * seconds + 1);
    expect(one.refusals.personSends).toBeGreaterThan(20);
    expect(one.bindsFirst?.name).toBe(PERSON_LIMIT);
    expect(notClean(one)).toContain(`${one.refusals.personSends} sends refused by PersonSendRateLimit`);
    expect(modelTable([one])).toContain(`${PERSON_LIMIT}: ${one.refusals.personSends} refused`);
    // Refused sends are never stored: every one sent still reaches every member.
    expect(one.missing).toBe(0);
  });

  it("counts a person's connections together: ten tabs each under SendRateLimit are still one person", () => {
    const tabs = run(room(1, 10));
    expect(tabs.refusals.connectionSends).toBe(0);
    expect(tabs.refusals.personSends).toBeGreaterThan(20);
    expect(tabs.bindsFirst?.name).toBe(PERSON_LIMIT);
  });

  it('refuses nothing when the same load is spread over the room, each member under its limits', () => {
    const spread = run(room(10));
    expect(spread.refusals.personSends + spread.refusals.connectionSends).toBe(0);
    expect(spread.sent).toBeGreaterThan(40);
    // Cold starts may still lift its p99 (no warm-up here): no send of it is refused.
    expect(notClean(spread)).not.toMatch(/refused/);
  });

  it("names the connection's SendRateLimit when the person's limit is off", () => {
    const limits = stackLimits({ PersonSendRateLimit: '0' });
    const one = run(room(1), limits.settings);
    expect(one.refusals.personSends).toBe(0);
    expect(one.refusals.connectionSends).toBeGreaterThan(20);
    expect(one.bindsFirst?.name).toBe(CONNECTION_LIMIT);
    expect(modelHeader(AWS, 11, seconds, limits)).toContain(
      `send limits overridden by this run: PersonSendRateLimit=0 (shipped ${person}: off)`,
    );
  });
});

describe('the send limits in the output', () => {
  it('prints the limits it applies, from the settings schema, and each one a run overrides', () => {
    const header = modelHeader(AWS, 1, seconds, shipped);
    expect(header).toContain(
      `SendRateLimit ${SETTINGS.SendRateLimit.default} per ${SETTINGS.SendRateWindowSeconds.default} s per connection, ` +
        `PersonSendRateLimit ${person} per ${personWindow} s per person`,
    );
    expect(header).toContain('send limits overridden by this run: none, as the settings schema ships them');

    // The bench's own lift of a connection's limit (tools/bench/fanout.ts) is named when a model run is given it.
    const lifted = stackLimits({ SendRateLimit: '10000' });
    expect(lifted.overrides).toContainEqual({
      name: 'SendRateLimit',
      value: '10000',
      shipped: String(SETTINGS.SendRateLimit.default),
    });
    expect(modelHeader(AWS, 1, seconds, lifted)).toContain(
      `send limits overridden by this run: SendRateLimit=10000 (shipped ${SETTINGS.SendRateLimit.default}: lifted)`,
    );
  });

  it('refuses a value the settings document would refuse', () => {
    expect(() => stackLimits({ PersonSendRateLimit: '-1' })).toThrow(
      `PersonSendRateLimit must be a whole number from 0 to ${SETTINGS.PersonSendRateLimit.max}, got "-1"`,
    );
  });

  it("lifts the limits for the fan-out's ceiling and says what a room sends under them", () => {
    expect(ceilingSettings(shipped.settings).sendLimits).toBeUndefined();
    expect(ceilingNote(shipped.settings, 100)).toContain(
      `under them a room of 100 sends at most ${Math.round((100 * person) / personWindow)} messages/s sustained`,
    );
  });

  it('lifts the limits for a load whose senders send faster than a person, and only for such a load', () => {
    for (const scenario of Object.values(SCENARIOS)) {
      const perSender = scenario.rate / (scenario.senders ?? scenario.members);
      const lifted = loadSettings(scenario, shipped).sendLimits === undefined;
      expect([scenario.name, lifted]).toEqual([scenario.name, perSender > PERSON_SENDS_PER_SECOND]);
    }
    const header = fanoutLoadLine(Object.values(SCENARIOS), shipped);
    expect(header).toContain('room-100-at-300 3/s a sender');
    expect(header).not.toContain('room-100-at-100');
  });

  it("a fan-out load's row refuses no send; the run's own send-limit setting holds its senders and they are refused", () => {
    const load = { ...(SCENARIOS['room-100-at-300'] as Scenario), seconds: 3 };
    const runLoad = (limits: typeof shipped) =>
      runModel({
        design: 'wake',
        scenario: load,
        profile: AWS,
        seed: 2,
        settings: loadSettings(load, limits),
        traffic: false,
      });
    const lifted = runLoad(shipped);
    expect(lifted.refusals.personSends + lifted.refusals.connectionSends).toBe(0);
    const held = stackLimits({ PersonSendRateLimit: String(person) });
    expect(held.sendLimitsGiven).toEqual(['PersonSendRateLimit']);
    expect(fanoutLoadLine([load], held)).toContain(
      'held to the send limits this run gives (PersonSendRateLimit)',
    );
    expect(runLoad(held).refusals.personSends).toBeGreaterThan(0);
  });

  it('makes every scenario name its senders', () => {
    for (const scenario of Object.values(SCENARIOS)) expect(scenario.senders).toBe(scenario.members);
  });
});
