/** The one clock of the functions: the domain and Deliver ask it for the time, so a test can set it. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
