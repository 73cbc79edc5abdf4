import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';

/**
 * Sign-out (web/signin.js) sends Cognito's `/logout` the chat page's address as `logout_uri`, and Cognito refuses
 * any address the app client does not list in LogoutURLs: the template registers exactly the chat pages it sends
 * people back to, and each of them is also a sign-in callback (the page signs in again from there).
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
// biome-ignore lint/suspicious/noExplicitAny: the raw template's intrinsic functions, matched by the assertions
const raw = template.raw as any;
const client = raw.Resources.UserPoolClient.Properties;

/** The [HostWeb, without] branches of an `!If [HostWeb, …, …]` list property. */
function branches(value: unknown): [unknown[], unknown[]] {
  const [condition, hosted, plain] = (value as { 'Fn::If': [string, unknown[], unknown[]] })['Fn::If'];
  expect(condition).toBe('HostWeb');
  return [hosted, plain];
}

it('registers the hosted chat page (the WebUrl output) as a logout URL, and the SignInCallbackUrl page', () => {
  const [hosted, plain] = branches(client.LogoutURLs);
  expect(hosted).toContainEqual(raw.Outputs.WebUrl.Value);
  expect(JSON.stringify(hosted)).toContain('SignInCallbackUrl');
  expect(JSON.stringify(plain)).toContain('SignInCallbackUrl');
});

it('lists only logout URLs that are also sign-in callbacks, so a signed-out page can sign in again', () => {
  const [logoutHosted, logoutPlain] = branches(client.LogoutURLs);
  const [callbackHosted, callbackPlain] = branches(client.CallbackURLs);
  for (const url of logoutHosted) expect(callbackHosted).toContainEqual(url);
  for (const url of logoutPlain) expect(callbackPlain).toContainEqual(url);
});
