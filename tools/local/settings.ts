// The settings the local cloud is started with (`--setting Name=Value`, LocalCloudOptions.settings): a runtime
// setting goes into the stack's settings document, which the local Parameter Store serves as AWS does the deployed
// one (functions/platform/settings.ts reads it); a deploy-time constant changes the local template's
// Mappings.Deploy.Settings, the stand-in for editing template.yaml and redeploying.
import { brokenRules, constantRefusal, defaultSettings, refusal, SETTINGS } from '#platform/settingsSchema';
import { deployConstants } from '../infra/parameters';

export type SettingValues = Readonly<Record<string, string | number>>;

/**
 * What the local cloud runs unless told otherwise: an open lobby, where the tutorial's two wscat clients talk, and
 * no limits per source. Every local client comes from one address (127.0.0.1), so the limits per source address
 * would be limits on the whole local cloud (its tests, load and benchmark included): they are off unless set, and so
 * are the per-person limits, which count per source without sign-in. A
 * deployed stack's defaults are the schema's (a lobby for announcements only, the limits per source).
 */
export const LOCAL_DEFAULT_SETTINGS: SettingValues = {
  LobbyPolicy: 'open',
  LobbyPostLimit: 0,
  ConnectionsPerSource: 0,
  ConnectRateLimit: 0,
  RoomCreateLimit: 0,
  PersonSendRateLimit: 0,
  PersonReactionRateLimit: 0,
  PersonReadRateLimit: 0,
  PersonSearchRateLimit: 0,
  PersonPeopleRateLimit: 0,
  PersonProfileRateLimit: 0,
  ReactionKindsPerSource: 0,
};

/**
 * The one local-only setting, never in template.yaml nor the settings document: the environment variable through
 * which the local cloud gives the push function its push service stand-in's origin (tools/local/pushService.ts),
 * the one plain-http, loopback endpoint a push subscription may name locally (functions/push/subscription.ts
 * refuses every other). On AWS nothing sets it, so only public https push services are allowed.
 */
export const LOCAL_PUSH_SERVICE_VARIABLE = 'PUSH_SERVICE_STANDIN';

/** A runtime setting's value as the document holds it: a number for an integer setting, else the text. */
function typed(name: string, value: string | number): unknown {
  const schema = (SETTINGS as Record<string, { type: string }>)[name];
  return schema?.type === 'integer' && typeof value === 'string' && value.trim() !== ''
    ? Number(value)
    : value;
}

/**
 * The settings given, over the local defaults, split into the document's overrides (checked against the schema) and
 * the deploy-time constants; a name that is neither, or a value out of range, is refused naming it.
 */
export function splitSettings(
  given: SettingValues = {},
  raw: Record<string, unknown>,
): { document: Record<string, unknown>; constants: Record<string, string> } {
  const constants = deployConstants(raw);
  const document: Record<string, unknown> = {};
  const changed: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...LOCAL_DEFAULT_SETTINGS, ...given })) {
    if (name in constants) {
      const wrong = constantRefusal(name, String(value));
      if (wrong) throw new Error(`deploy-time constant ${wrong}`);
      changed[name] = String(value);
      continue;
    }
    if (!(name in SETTINGS)) {
      throw new Error(
        `${name} is no setting: the runtime settings are ${Object.keys(SETTINGS).join(', ')}; the deploy-time constants ${Object.keys(constants).join(', ')}`,
      );
    }
    const wrong = refusal(name, typed(name, value));
    if (wrong) throw new Error(`setting ${wrong}`);
    document[name] = typed(name, value);
  }
  // As `npm run settings` refuses to write them: settings that together break a rule between them (the functions
  // would read that rule's defaults instead), named.
  const broken = brokenRules({ ...defaultSettings(), ...document });
  if (broken.length > 0) throw new Error(`settings ${broken.join('; ')}`);
  return { document, constants: changed };
}
