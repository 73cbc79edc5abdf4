// ReturnValuesOnConditionCheckFailure for the single-item writes of the local cloud's DynamoDB (dynalite has it for
// none). DynamoDB returns the item as it was with a PutItem, UpdateItem or DeleteItem whose condition failed when
// the request asks for ALL_OLD ("Item" of ConditionalCheckFailedException; the API reference's
// ReturnValuesOnConditionCheckFailure, docs/PARITY.md). dynalite checks the condition holding the item's lock, with
// the item in hand: that is where it is attached, so it is the very item the condition was checked against.

type Item = Record<string, unknown>;
interface ConditionDb {
  checkConditional(data: Item, existing: Item | undefined): (Error & { body?: Item }) | null | undefined;
  roomcastConditionItem?: boolean;
}
interface Validation {
  types: Record<string, unknown>;
}

const WRITES = ['putItem', 'updateItem', 'deleteItem'];

export function patchConditionFailureItem(): void {
  const db = require('dynalite/db') as ConditionDb;
  if (db.roomcastConditionItem) return;
  db.roomcastConditionItem = true;
  // dynalite drops request fields its validator does not name: name this one, with DynamoDB's values.
  for (const action of WRITES) {
    const validation = require(`dynalite/validations/${action}`) as Validation;
    validation.types.ReturnValuesOnConditionCheckFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  }
  const check = db.checkConditional.bind(db);
  db.checkConditional = (data, existing) => {
    const failed = check(data, existing);
    if (failed?.body && existing && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD')
      failed.body = { ...failed.body, Item: existing };
    return failed;
  };
}
