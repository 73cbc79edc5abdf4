/**
 * `npm run load` against a stack with sign-in but without a token: every connect is refused, and the summary says
 * what to set instead of only counting `Unexpected server response: 401`.
 */
const { signInHint } = require('../../tools/load/signInHint.js') as {
  signInHint(errorCounters: string[]): string | undefined;
};

it('names the token settings when connects were refused with 401 or 403', () => {
  for (const refused of [
    'errors.Unexpected server response: 401',
    'errors.Unexpected server response: 403',
  ]) {
    const hint = signInHint(['chat.error.RATE_LIMITED', refused]);
    expect(hint).toContain('ROOMCAST_TOKEN_COMMAND');
    expect(hint).toContain('ROOMCAST_TOKEN_SECRET');
  }
});

it('says nothing about sign-in for other errors', () => {
  expect(
    signInHint(['errors.ECONNREFUSED', 'chat.error.RATE_LIMITED', 'errors.Unexpected server response: 429']),
  ).toBe(undefined);
});
