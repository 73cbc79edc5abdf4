// What a load run's summary says when its connections were refused at $connect for want of sign-in: artillery
// counts the gateway's answer as `errors.Unexpected server response: 401` (no token, or no Authorization) or `403`
// (the authorizer denied the token), which by itself does not say what to do. CommonJS, like tools/load/processor.js.

/** A line for the summary when `errorCounters` (artillery's counter names) show refused connects, else undefined. */
function signInHint(errorCounters) {
  const refused = errorCounters.filter((name) => name.startsWith('errors.') && /\b40[13]\b/.test(name));
  if (refused.length === 0) return undefined;
  return [
    'connections were refused at $connect (401: no token, 403: token denied): a stack with sign-in needs a token per VU.',
    'Set ROOMCAST_TOKEN_SECRET (AuthMode=token) or ROOMCAST_TOKEN_COMMAND (any sign-in); locally --auth-mode token,',
    'or the development issuer (docs/LOAD.md, "Signed in").',
  ].join('\n                   ');
}

module.exports = { signInHint };
