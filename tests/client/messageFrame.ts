import type { MessageFrame } from '#protocol';

/** Message `seq` of `roomId` as the server sends it to the client library: text `m<seq>`, by `a`. */
export const messageFrame = (roomId: string, seq: number): MessageFrame =>
  ({ type: 'message', roomId, seq, text: `m${seq}`, username: 'a', messageId: `id${seq}` }) as MessageFrame;
