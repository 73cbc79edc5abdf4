import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { resolveSettings, type SettingName, type Settings } from '#platform/settings';
import type { LocalCloud } from '../../tools/local/cloud';

/**
 * The runtime setting a running local cloud's functions obey: its settings document, read from the cloud's own
 * Parameter Store, resolved over the schema's defaults as functions/platform/settings.ts does. So a test derives its
 * numbers from what the cloud really runs (schema defaults, LOCAL_DEFAULT_SETTINGS and the test's own `settings:`),
 * not from a copy of them that could drift.
 */
export async function effectiveSetting<K extends SettingName>(
  cloud: LocalCloud,
  name: K,
): Promise<Settings[K]> {
  if (!cloud.settingsParameter) throw new Error('this cloud has no settings document (SettingsParameter)');
  const ssm = new SSMClient({
    endpoint: cloud.ssmEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: cloud.settingsParameter }));
    const document = JSON.parse(Parameter?.Value ?? '{}') as Record<string, unknown>;
    return resolveSettings(document)[name];
  } finally {
    ssm.destroy();
  }
}
