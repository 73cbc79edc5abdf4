import { settings } from '#platform/settings';
import type { GuardLimits } from './guard';
import type { PersonRates } from './personRate';
import { CONNECT_WINDOW_SECONDS, ROOM_WINDOW_SECONDS } from './quotas';

/**
 * The limits' settings as the guard and the quotas take them. They live here, not in platform/config.ts, because
 * their shapes and windows are the limits' own rules and platform/ imports nothing of the chat; the values still
 * come from the one settings document (platform/settings.ts).
 */
export const limitSettings = {
  /** Handshakes per owner per 10 minutes (setting ConnectRateLimit; quotas.ts); 0 = no limit. */
  connectRate: () => ({ limit: settings().ConnectRateLimit, windowSeconds: CONNECT_WINDOW_SECONDS }),
  /** Rooms each owner may create per hour (setting RoomCreateLimit; quotas.ts); 0 = no limit. */
  roomCreateRate: () => ({ limit: settings().RoomCreateLimit, windowSeconds: ROOM_WINDOW_SECONDS }),
  /**
   * A person's budgets across its connections (PersonSendRateLimit, PersonReactionRateLimit, PersonReadRateLimit, PersonSearchRateLimit,
   * PersonPeopleRateLimit, PersonProfileRateLimit per
   * PersonRateWindowSeconds; personRate.ts); a limit of 0 = that budget off.
   */
  personRates: (): PersonRates => {
    const s = settings();
    const rate = (limit: number) =>
      limit > 0 ? { limit, windowSeconds: s.PersonRateWindowSeconds } : undefined;
    return {
      send: rate(s.PersonSendRateLimit),
      react: rate(s.PersonReactionRateLimit),
      read: rate(s.PersonReadRateLimit),
      search: rate(s.PersonSearchRateLimit),
      people: rate(s.PersonPeopleRateLimit),
      profile: rate(s.PersonProfileRateLimit),
    };
  },
  /** Without sign-in, the kinds of reaction one source gives one message in all (ReactionKindsPerSource); 0 = no cap. */
  reactionKindsPerSource: () => settings().ReactionKindsPerSource,
  /** Seconds between mention notices from one sender to one person in one room (MentionNoticeSeconds); 0 = none. */
  mentionNoticeSeconds: () => settings().MentionNoticeSeconds,
  /**
   * The guard's limits from the settings (FrameRateLimit, StrikeLimit, JoinGuessLimit); a limit of 0 = that guard
   * off. Every route's guard reads them; only joinroom and subscribe make join guesses.
   */
  guardLimits: (): GuardLimits => {
    const s = settings();
    return {
      ...(s.FrameRateLimit > 0 && {
        frames: { limit: s.FrameRateLimit, windowSeconds: s.FrameRateWindowSeconds },
      }),
      ...(s.JoinGuessLimit > 0 && {
        joinGuesses: { limit: s.JoinGuessLimit, windowSeconds: s.JoinGuessRefillHours * 3600 },
      }),
      ...(s.StrikeLimit > 0 && { strikes: { limit: s.StrikeLimit, windowSeconds: s.StrikeWindowSeconds } }),
    };
  },
};
