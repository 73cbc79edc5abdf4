import { parseArgs } from 'node:util';
import { parseParameterOverrides } from '../infra/parameters';
import { AWS, profileNamed } from '../local/awsProfile';
import { DESIGNS, type Design } from './awsModel';
import { MODEL_CHOICES } from './modelRuns';
import { profileInRegion } from './regions';

/** The bench's command line. */

const HELP = `roomcast fan-out benchmark (local cloud, 127.0.0.1 only)

Usage: npm run bench -- [options]

  --room N               run one room size only (default 10, 100, 1000; with --full also 5000)
  --full                 add the 5,000-member room
  --messages K           messages per room (default 20)
  --gap-ms N             pause between two messages (default 50)
  --api-latency-ms N     injected management-API latency, repeatable (default: 0 and 20)
  --tutorial-budget-s S  time budget of the tutorial baseline per room (default 25; at least 2 messages)
  --no-tutorial          skip the tutorial baseline
  --join MODE            room: createroom + joinroom; lobby: stay in the lobby (a fresh cloud per room, so the
                         lobby holds exactly the N members); auto (default): room up to 100 members, lobby above
  --parameter Key=Value  template parameter or setting for the cloud, repeatable (e.g. FanoutChunkSize=50); with
                         --model, a deploy-time constant (e.g. SendMessageThrottlingRateLimit=500), FanoutPostsPerSecond
                         or a send limit (SendRateLimit, SendRateWindowSeconds, PersonSendRateLimit,
                         PersonRateWindowSeconds), each named in the output
  --sweep                FanoutChunkSize x FanoutMaxConcurrency at room 1,000 (20 ms latency unless given)
  --profile DIR          run the cloud with --cpu-prof, profiles written to DIR
  --hot-room             the hot-room scenario: members send --rate messages/s between them (default room 100,
                         100 messages, 20 ms latency); prints posts per message, latency p50/p99 from each send to
                         each member's receipt, and the same room quiet (one message at a time) to compare
  --rate N               messages per second of the hot room (default 10)
  --ceiling              the room ceiling: one room's members send at 5, 10, 20 ... 300 messages/s, 3 s a step, until a
                         send is answered BUSY; reports the highest clean rate (default room 10, 0 ms latency)
  --warmup N             hot room: messages sent one at a time before anything is measured, so the measured ones
                         meet warm environments, as a deployed stack's steady traffic does (default 1: cold starts)
  --quiet N              hot room: messages of the quiet phase (default the smaller of --messages and 20); more
                         narrow the quiet latency's run-to-run spread when two builds are compared
  --search-index         the send's ack with search's index written (SearchIndexing=on) and without it (off), in
                         one run: two clouds, a room of --room members (default 10) each sending --rate messages/s
                         (default 20), the legs in turns; ack p50 and p99 of each, and on ÷ off
  --idle N               memory only: connect N members to one cloud, report its RSS idle (no fan-out)
  --aws-profile NAME     the local cloud runs under the AWS profile NAME (tools/local/awsProfile.ts: each call's
                         latency drawn from AWS's, --api-latency-ms then unused unless given); with --model or
                         --check, the profile the model draws from (default aws)
  --model SCENARIO       no cloud: the model of the fan-out on AWS (tools/bench/awsModel.ts), a discrete-event
                         simulation drawing each hop's latency from the profile and enforcing its quotas and each
                         sender's send limits (every member sends, each message's sender drawn at random). SCENARIO:
                           room-100-at-100   one room of 100 members at 100 messages/s
                           room-100-at-300   one room of 100 members at 300 messages/s
                           rooms-1000-of-2   1,000 rooms of 2 members at 2.5 messages/s each
                           room-1000-at-50   one room of 1,000 members at 50 messages/s
                           twin              one room of 20 at 10 messages/s, 100 messages (the --check load)
                           ceiling           the highest rate one room (--room, default 100) holds: p99 ≤ 1 s,
                                             backlog within a second's sends, nothing refused or lost; the
                                             senders' limits lifted, the room's rate under them printed beside
                           custom            --rooms K rooms of --room N members at --rate R messages/s each
                           presence          one room's presence turn by turn (tools/bench/presence.ts): 5,000
                                             joins in 60 s, and a storm of 20,000 reconnects at 500/s; a queue
                                             message per change against the room's presence board
                           owners            an owner's or moderator's removemember, ban, mute, rotatekey,
                                             slowmode and closeroom in rooms of 1,000 and 10,000
                                             (tools/bench/ownerActions.ts): the route's answer against its
                                             deadlines, the person acted on told, the last member told and
                                             (closeroom) moved, each hop's calls against its quota, 20 seeds
                           all               the four loads and the ceiling
  --design D             the model's fan-out: queue (one queue message per room event), wake (one wake per awake
                         spell of a room, the room's log read since its cursor: the fan-out as built) or both (default)
  --seed N               the model's random seed (default 1): a seed gives the same figures on any machine
  --seconds S            the model's seconds of sending (default 10; the run then drains for up to 60 more)
  --rooms K              --model custom: rooms (default 1)
  --warm-seconds S       the model's warm-up: S seconds of the same load before the measured ones (default 5:
                         environments warm, as steady traffic finds them; 0: every function starts cold)
  --new-tables           the model's tables just created on demand: 4,000 write units/s each at first, not the
                         40,000 a table of the account's default quota
  --typing-thinned       the model's clients send one typing heartbeat per typist per TypingIntervalSeconds, not one
                         per message after its ack (a client that is not the shipped one; the header says so)
  --region R             the model's Region (default us-east-1): its EventBridge PutEvents and rule invocations a
                         second (e.g. us-east-1 10,000 and 18,750; eu-south-1 400 and 750)
  --check                the twin against the model: the hot room (20 members, 10 messages/s, 100 messages) on the
                         local cloud under --aws-profile, then the model of the same load, p50 and p99 side by side
                         with their ratio (the model should be within 2× of the twin)
  --json                 one JSON line per room size instead of the table
  -h, --help             this help
`;

export interface Options {
  rooms: number[];
  /** --room as given (the model's ceiling and custom load default otherwise). */
  room?: number;
  messages: number;
  gapMs: number;
  latencies: number[];
  /** Whether --api-latency-ms was given (under a profile the cloud's management API draws AWS's latency instead). */
  apiLatencyGiven: boolean;
  tutorialBudgetMs: number;
  tutorial: boolean;
  join: 'room' | 'lobby' | 'auto';
  parameters: Record<string, string>;
  sweep: boolean;
  profileDir?: string;
  /** The hot-room scenario, at `rate` messages per second. */
  hotRoom: boolean;
  rate: number;
  /** Hot room: messages delivered before the measured phases (the first absorbs the cold starts). */
  warmup: number;
  /** Hot room: messages of the quiet phase, sent one at a time. */
  quiet: number;
  /** The room-ceiling scenario (tools/bench/ceiling.ts). */
  ceiling: boolean;
  /** The ack with and without search's index (tools/bench/searchIndex.ts). */
  searchIndex: boolean;
  /** Memory-only run: this many idle members, no fan-out. */
  idle?: number;
  json: boolean;
  /** The AWS profile the child cloud runs under, and the model draws from. */
  awsProfile?: string;
  /** A model scenario (no cloud), the designs it runs, its seed, its seconds and (custom) its rooms. */
  model?: (typeof MODEL_CHOICES)[number];
  designs: Design[];
  seed: number;
  seconds: number;
  modelRooms: number;
  /** The twin against the model. */
  check: boolean;
  /** The model's Region: its EventBridge quotas (tools/bench/regions.ts). */
  region: string;
  /** The model's warm-up: seconds of the same load before the measured ones. */
  warmSeconds: number;
  /** The model's DynamoDB tables just created on demand (a new table's initial write units). */
  newTables: boolean;
  /** The model's clients thinned to one typing heartbeat per typist per interval (TrafficMix.typingThinnedMs). */
  typingThinned: boolean;
}

export function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      room: { type: 'string' },
      full: { type: 'boolean' },
      messages: { type: 'string' },
      'gap-ms': { type: 'string' },
      'api-latency-ms': { type: 'string', multiple: true },
      'tutorial-budget-s': { type: 'string' },
      'no-tutorial': { type: 'boolean' },
      join: { type: 'string' },
      parameter: { type: 'string', multiple: true },
      sweep: { type: 'boolean' },
      profile: { type: 'string' },
      idle: { type: 'string' },
      'hot-room': { type: 'boolean' },
      ceiling: { type: 'boolean' },
      'search-index': { type: 'boolean' },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      quiet: { type: 'string' },
      json: { type: 'boolean' },
      'aws-profile': { type: 'string' },
      model: { type: 'string' },
      design: { type: 'string' },
      seed: { type: 'string' },
      seconds: { type: 'string' },
      rooms: { type: 'string' },
      check: { type: 'boolean' },
      region: { type: 'string' },
      'warm-seconds': { type: 'string' },
      'new-tables': { type: 'boolean' },
      'typing-thinned': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const int = (name: string, raw: string | undefined, fallback: number, min = 0, max = 100_000) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer ${min}..${max}`);
    return n;
  };
  const parameters = parseParameterOverrides(values.parameter);
  const sweep = values.sweep === true;
  const room = values.room === undefined ? undefined : int('room', values.room, 0, 1, 10_000);
  const latencies = (values['api-latency-ms'] ?? []).map((v) => int('api-latency-ms', v, 0, 0, 5_000));
  const hotRoom = values['hot-room'] === true;
  const ceiling = values.ceiling === true;
  const searchIndex = values['search-index'] === true;
  const model = modelChoice(values.model);
  const check = values.check === true;
  // The model and the check draw from a profile; the cloud runs under one only when asked.
  const awsProfile = values['aws-profile'] ?? (model || check ? 'aws' : undefined);
  if (awsProfile !== undefined) profileNamed(awsProfile);
  const region = values.region ?? 'us-east-1';
  profileInRegion(AWS, region);
  const messages = int('messages', values.messages, hotRoom ? 100 : 20, 1, 1000);
  return {
    rooms:
      room !== undefined
        ? [room]
        : ceiling || searchIndex
          ? [10]
          : hotRoom
            ? [100]
            : sweep
              ? [1000]
              : values.full
                ? [10, 100, 1000, 5000]
                : [10, 100, 1000],
    room,
    messages,
    gapMs: int('gap-ms', values['gap-ms'], 50, 0, 10_000),
    latencies:
      latencies.length > 0
        ? latencies
        : ceiling || searchIndex || awsProfile !== undefined
          ? [0]
          : sweep || hotRoom
            ? [20]
            : [0, 20],
    apiLatencyGiven: latencies.length > 0,
    tutorialBudgetMs: int('tutorial-budget-s', values['tutorial-budget-s'], 25, 0, 600) * 1000,
    tutorial: values['no-tutorial'] !== true && !sweep,
    join: joinMode(values.join),
    parameters,
    sweep,
    profileDir: values.profile,
    idle: values.idle === undefined ? undefined : int('idle', values.idle, 0, 1, 15_000),
    hotRoom,
    ceiling,
    searchIndex,
    // The model offers any rate; the local cloud's sends are bounded by this machine.
    rate: int('rate', values.rate, searchIndex ? 20 : 10, 1, model ? 100_000 : 200),
    warmup: int('warmup', values.warmup, 1, 1, 1000),
    quiet: int('quiet', values.quiet, Math.min(messages, 20), 1, 1000),
    json: values.json === true,
    awsProfile,
    model,
    designs: designChoice(values.design),
    seed: int('seed', values.seed, 1, 0, 2 ** 31),
    seconds: int('seconds', values.seconds, 10, 1, 600),
    modelRooms: int('rooms', values.rooms, 1, 1, 100_000),
    check,
    region,
    warmSeconds: int('warm-seconds', values['warm-seconds'], 5, 0, 600),
    newTables: values['new-tables'] === true,
    typingThinned: values['typing-thinned'] === true,
  };
}

function modelChoice(raw: string | undefined): Options['model'] {
  if (raw === undefined) return undefined;
  const choice = MODEL_CHOICES.find((c) => c === raw);
  if (!choice) throw new Error(`--model must be one of ${MODEL_CHOICES.join(', ')}, got "${raw}"`);
  return choice;
}

function designChoice(raw: string | undefined): Design[] {
  if (raw === undefined || raw === 'both') return [...DESIGNS];
  const design = DESIGNS.find((d) => d === raw);
  if (!design) throw new Error(`--design must be queue, wake or both, got "${raw}"`);
  return [design];
}

/**
 * The local cloud's arguments for one run: its log level, the management API's injected latency (only when asked
 * for, or with no profile: a profile draws its own), the AWS profile, and each template parameter or setting.
 */
export function cloudArgs(run: {
  apiLatencyMs?: number;
  awsProfile?: string;
  parameters: Record<string, string>;
  /** The template's parameter names: the others are settings. */
  templateParameters: ReadonlySet<string>;
}): string[] {
  return [
    '--log-level',
    'ERROR',
    ...(run.apiLatencyMs !== undefined ? ['--api-latency-ms', String(run.apiLatencyMs)] : []),
    ...(run.awsProfile !== undefined ? ['--aws-profile', run.awsProfile] : []),
    // A template parameter is a --parameter; a setting (runtime or deploy-time constant) a --setting.
    ...Object.entries(run.parameters).flatMap(([k, v]) => [
      run.templateParameters.has(k) ? '--parameter' : '--setting',
      `${k}=${v}`,
    ]),
  ];
}

function joinMode(raw: string | undefined): Options['join'] {
  if (raw === undefined) return 'auto';
  if (raw === 'room' || raw === 'lobby' || raw === 'auto') return raw;
  throw new Error(`--join must be room, lobby or auto, got "${raw}"`);
}

/**
 * Every join fans a presence frame out to the members already in the room, so N joins cost N²/2 posts: 500,000 for
 * 1,000 members, minutes on this machine and nothing to do with the message fan-out measured. Above 100 members the
 * default is the lobby of a fresh cloud: the same Query on RoomSubscribers, the same Map and Deliver path, no presence.
 */
export const JOIN_ROOM_UP_TO = 100;
