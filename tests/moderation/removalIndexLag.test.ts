import { type Frame, isMessage } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Removed means removed, whatever the room index says: with the local DynamoDB's global indexes showing each write
 * GSI_LAG_MS late (`--gsi-lag-ms`), a member whose join is not yet in the room index when the owner removes them is not
 * found by the removal, yet gets nothing more of the room and is refused when posting to it: the send's own write
 * reads the room's removed names, and the fan-out leaves them out by the room's consistent read. The lag is longer
 * than the test: what it hides stays hidden however slow the machine, until the test ends it (flushDynamoIndexLag).
 */
jest.setTimeout(240_000);

const GSI_LAG_MS = 600_000;

const stage = roomCloud({ gsiLagMs: GSI_LAG_MS, settings: { JoinGuessLimit: '1000' } });
const { connect } = stage;
/** Every write before it is in the index. */
const indexed = () => stage.cloud.flushDynamoIndexLag();
const ofRoom = (roomId: string) => (f: Frame) =>
  f.roomId === roomId ||
  (Array.isArray(f.messages) && (f.messages as Frame[]).some((m) => m.roomId === roomId));

describe('a member removed before the room index lists their join', () => {
  it('gets nothing more of the room and is refused when posting to it', async () => {
    const alice = await connect('alice-lag');
    const carol = await connect('carol-lag');
    const bob = await connect('bob-lag');
    const created = await alice.expectReply({ action: 'createroom' });
    const roomId = created.roomId as string;
    await carol.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
    await indexed();

    // Bob's join is committed; the index shows it only GSI_LAG_MS later, and the removal looks for him there first.
    await bob.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
    const removal = await alice.expectReply({ action: 'removemember', username: 'bob-lag' });
    expect(removal).toMatchObject({ type: 'memberremoved', roomId, removed: 0 });
    const afterRemoval = bob.mark();
    // The presence turn Bob's join started (its board read before the removal) ends while the index still hides
    // him, as it would within a GSI's sub-second lag on AWS; then the index catches up.
    await stage.test.settle();
    await indexed();

    // Now the index lists Bob's connection in the room: Alice's message reaches Carol and not Bob.
    const sent = await alice.expectReply({ action: 'sendmessage', roomId, message: 'after the removal' });
    await carol.next(isMessage(roomId, 'after the removal'));
    // Bob posts: refused, and nothing of his reaches the room.
    const refused = await bob.ask({ action: 'sendmessage', roomId, message: 'still here?' });
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
    // A second message from Alice, after Bob's refusal, so anything the fan-out would post him has come by then.
    await alice.expectReply({ action: 'sendmessage', roomId, message: 'the last one' });
    await carol.next(isMessage(roomId, 'the last one'));
    await stage.test.settle();
    expect(bob.since(afterRemoval).filter((f) => f.type !== 'error' && ofRoom(roomId)(f))).toEqual([]);
    expect(carol.messages(roomId).map((m) => m.text)).not.toContain('still here?');
    expect(sent.seq).toBeGreaterThan(0);
  });
});
