import { randomInt } from 'node:crypto';
import { ChatClient } from '../helpers/chatClient';
import { startTestCloud } from '../helpers/localCloud';

/**
 * Measurement, not a test (npx jest --testMatch '**\/tests/security/abuse.measure.ts'): how many Lambda invocations
 * one abusive client causes per minute against the local cloud, with the template's limits (LIMITS=default) or with
 * them lifted (LIMITS=off: the "before"), and how many of its 250 random joinroom guesses are answered.
 * An abusive client sends frames in bursts of BURST without waiting, and reconnects whenever it is closed.
 */
jest.setTimeout(300_000);
const SECONDS = Number(process.env.ABUSE_SECONDS ?? 60);
const BURST = Number(process.env.ABUSE_BURST ?? 20);
const lifted = process.env.LIMITS === 'off';
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const code = () => Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

it('measures one abusive client', async () => {
  const settings: Record<string, string> = lifted
    ? {
        FrameRateLimit: '100000',
        JoinGuessLimit: '100000',
        StrikeLimit: '100000',
        SendRateLimit: '1000',
      }
    : {};
  const testCloud = await startTestCloud({ settings });
  const { cloud } = testCloud;
  try {
    // 250 random joinroom guesses from one client, as fast as the replies come.
    const guessStart = Date.now();
    const answers: Record<string, number> = {};
    let guesses = 0;
    while (guesses < 250) {
      const c = await ChatClient.connect(cloud.wsUrl, 'guesser');
      while (guesses < 250 && c.isOpen) {
        const reply = await Promise.race([
          c.ask({ action: 'joinroom', roomId: code() }).catch(() => undefined),
          c.closed.then(() => undefined),
        ]);
        guesses++;
        const key = reply ? String(reply.type === 'error' ? reply.code : reply.type) : 'no answer (closed)';
        answers[key] = (answers[key] ?? 0) + 1;
      }
      await c.close().catch(() => undefined);
    }
    const guessMs = Date.now() - guessStart;

    // The flood: bursts of frames of every Lambda-backed route, reconnecting whenever closed, for SECONDS.
    const from = testCloud.invocations.length;
    const end = Date.now() + SECONDS * 1000;
    let connections = 0;
    let frames = 0;
    while (Date.now() < end) {
      const c = await ChatClient.connect(cloud.wsUrl, 'flood');
      connections++;
      while (Date.now() < end && c.isOpen) {
        for (let i = 0; i < BURST; i++) {
          const kinds = [
            { action: 'sendmessage', message: 'spam' },
            { action: 'who' },
            { action: 'history' },
            { action: 'joinroom', roomId: code() },
            { action: 'createroom' },
            { action: 'nonsense' },
          ];
          c.send(kinds[i % kinds.length]);
          frames++;
        }
        await Promise.race([new Promise((r) => setTimeout(r, 200)), c.closed]);
      }
      await c.close().catch(() => undefined);
    }
    await testCloud.settle();
    const invoked = testCloud.invocations.slice(from).filter((i) => i.routeKey !== undefined).length;
    process.stdout.write(
      `[figures] ${JSON.stringify({
        limits: lifted ? 'off' : 'template defaults',
        guessing: { frames: 250, ms: guessMs, answers },
        flood: {
          seconds: SECONDS,
          burst: BURST,
          framesSent: frames,
          connections,
          lambdaInvocations: invoked,
          perMinute: Math.round((invoked * 60) / SECONDS),
          perConnection: Math.round(invoked / connections),
        },
      })}\n`,
    );
  } finally {
    await cloud.close();
  }
});
