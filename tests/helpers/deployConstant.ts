import type { LocalTemplate } from '../../tools/infra/template';

/**
 * A deploy-time constant (template.yaml's Mappings.Deploy.Settings, e.g. BroadcastAllowedOrigin) as the loaded
 * template holds it, so with any `constants` / `settings` the test started the cloud with: the value the deployed
 * resources would read through `!FindInMap [Deploy, Settings, <name>]`. An unknown name throws, naming it.
 */
export function deployConstant(template: LocalTemplate, name: string): string {
  return String(template.resolve({ 'Fn::FindInMap': ['Deploy', 'Settings', name] }, name));
}
