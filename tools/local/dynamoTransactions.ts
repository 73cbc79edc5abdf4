// DynamoDB transactions for the local cloud: TransactWriteItems and TransactGetItems over dynalite's own store, with
// AWS's semantics (docs/PARITY.md, "Local DynamoDB transactions"). dynalite has neither (its README lists them as
// not implemented). Each request is validated with dynalite's own validators, is refused as DynamoDB refuses it when
// an ongoing transaction holds one of its items (a transaction conflict), takes dynalite's per-item locks in one
// global order (so it serializes with every single-item write without deadlock), checks every condition against the
// items as they are, and applies all of its writes or none.
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { type Charge, type KeyedTable, type KeyThroughput, keyValue } from './dynamoKeyThroughput';

type Attr = Record<string, unknown>;
type Item = Record<string, Attr>;
type Callback<T = void> = (err?: (Error & { statusCode?: number; body?: unknown }) | null, value?: T) => void;

interface ItemDb {
  lock(key: string, exec: (release: <F extends (...args: never[]) => unknown>(done: F) => F) => void): void;
  get(key: string, cb: (err: (Error & { name: string }) | null, item?: Item) => void): void;
  put(key: string, item: Item, cb: Callback): void;
  del(key: string, cb: Callback): void;
}
interface Table {
  TableName: string;
}
export interface DynaliteStore {
  options: { maxItemSize: number };
  getTable(name: string, cb: Callback<Table>): void;
  getItemDb(name: string): ItemDb;
}
interface DynaliteDb {
  validateItem(item: Item, table: Table): Error | undefined;
  validateKey(key: Item, table: Table): Error | undefined;
  createKey(item: Item, table: Table): string;
  checkConditional(data: Obj, existing: Item | undefined): Error | undefined;
  updateIndexes(
    store: DynaliteStore,
    table: Table,
    existing: Item | null,
    item: Item | null,
    cb: Callback,
  ): void;
  /** updateIndexes without the per-key charge (tools/local/dynamodb.ts): a transaction charges all its items first. */
  writeIndexes?: DynaliteDb['updateIndexes'];
  itemSize(item: Item): number;
  mapPaths(paths: unknown, item: Item): Item;
  validationError(message: string): Error;
}
interface Validation {
  types: unknown;
  custom: unknown;
}
interface Validations {
  checkTypes(data: Obj, types: unknown): Obj;
  checkValidations(data: Obj, types: unknown, custom: unknown, store: DynaliteStore): void;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const db = require('dynalite/db') as DynaliteDb;
const validations = require('dynalite/validations') as Validations;
const validatorOf = (action: string) => require(`dynalite/validations/${action}`) as Validation;

/**
 * dynalite's update-expression evaluator, which its updateItem module keeps private: loaded from that module's own
 * source so a transaction's Update computes exactly what UpdateItem would.
 */
const updater = (() => {
  const file = require.resolve('dynalite/actions/updateItem.js');
  const source = `${readFileSync(file, 'utf8')}\nmodule.exports = { applyUpdateExpression, deepClone };`;
  const loaded = new Module(file) as Module & { _compile(code: string, name: string): void };
  loaded.filename = file;
  loaded.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    dirname(file),
  );
  loaded._compile(source, file);
  const { applyUpdateExpression, deepClone } = loaded.exports as {
    applyUpdateExpression?: (sections: unknown, table: Table, item: Item) => Error | undefined;
    deepClone?: (item: Item) => Item;
  };
  if (!applyUpdateExpression || !deepClone) throw new Error('dynalite no longer has applyUpdateExpression');
  return { applyUpdateExpression, deepClone };
})();

/** AWS's limit on the actions of one transaction (TransactWriteItems and TransactGetItems alike). */
export const MAX_TRANSACT_ITEMS = 100;
/** How long AWS remembers a ClientRequestToken. */
const TOKEN_LIFE_MS = 10 * 60_000;

export class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Obj = {},
  ) {
    super(message);
  }
  /** DynamoDB's JSON 1.0 error body. */
  body(): Obj {
    return { __type: `com.amazonaws.dynamodb.v20120810#${this.type}`, message: this.message, ...this.extra };
  }
}

const validationError = (message: string) =>
  Object.assign(new DynamoError('ValidationException', message), {
    body: () => ({ __type: 'com.amazon.coral.validate#ValidationException', message }),
  });

type Kind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck' | 'Get';
interface Action {
  kind: Kind;
  data: Obj;
  table: Table;
  key: string;
}

const promised = <T>(run: (cb: Callback<T>) => void) =>
  new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));

/** A dynalite error (statusCode + body) as the DynamoError the handler answers. */
function fromDynalite(error: unknown): never {
  const e = error as { statusCode?: number; body?: { __type?: string; message?: string } };
  if (e?.statusCode && e.body?.__type) {
    const type = e.body.__type.split('#')[1] ?? 'ValidationException';
    throw type === 'ValidationException'
      ? validationError(e.body.message ?? 'validation error')
      : new DynamoError(type, e.body.message ?? type);
  }
  throw error;
}

/** Validates one element of TransactItems with dynalite's validator of the matching single-item action. */
async function prepare(store: DynaliteStore, element: unknown, allowed: Kind[]): Promise<Action> {
  if (!isObj(element)) throw validationError('TransactItems must contain objects');
  const kinds = allowed.filter((k) => element[k] !== undefined);
  if (kinds.length !== 1)
    throw validationError(`TransactItems can only contain one of ${allowed.join(', ')} per element`);
  const kind = kinds[0] as Kind;
  const { ReturnValuesOnConditionCheckFailure, ...raw } = (element[kind] ?? {}) as Obj;
  if (
    ReturnValuesOnConditionCheckFailure !== undefined &&
    ReturnValuesOnConditionCheckFailure !== 'ALL_OLD' &&
    ReturnValuesOnConditionCheckFailure !== 'NONE'
  )
    throw validationError('ReturnValuesOnConditionCheckFailure must be ALL_OLD or NONE');
  if (kind === 'ConditionCheck' && typeof raw.ConditionExpression !== 'string')
    throw validationError('ConditionCheck requires a ConditionExpression');
  if (kind === 'Update' && typeof raw.UpdateExpression !== 'string')
    throw validationError('Update requires an UpdateExpression');
  const action = {
    Put: 'putItem',
    Update: 'updateItem',
    Delete: 'deleteItem',
    ConditionCheck: 'deleteItem',
    Get: 'getItem',
  }[kind];
  const validator = validatorOf(action);
  let data: Obj;
  try {
    data = validations.checkTypes(raw, validator.types);
    validations.checkValidations(data, validator.types, validator.custom, store);
  } catch (error) {
    fromDynalite(error);
  }
  const table = await promised<Table>((cb) => store.getTable(String(data.TableName), cb)).catch(fromDynalite);
  const keyed = (kind === 'Put' ? data.Item : data.Key) as Item;
  const invalid = kind === 'Put' ? db.validateItem(keyed, table) : db.validateKey(keyed, table);
  if (invalid) fromDynalite(invalid);
  return {
    kind,
    data: { ...data, ReturnValuesOnConditionCheckFailure },
    table,
    key: `${table.TableName}\u0000${db.createKey(keyed, table)}`,
  };
}

async function prepareAll(store: DynaliteStore, input: Obj, allowed: Kind[]): Promise<Action[]> {
  const items = input.TransactItems;
  if (!Array.isArray(items) || items.length < 1)
    throw validationError(
      "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  if (items.length > MAX_TRANSACT_ITEMS)
    throw validationError(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TRANSACT_ITEMS}`,
    );
  const actions: Action[] = [];
  for (const element of items) actions.push(await prepare(store, element, allowed));
  const keys = new Set(actions.map((a) => a.key));
  if (keys.size !== actions.length)
    throw validationError('Transaction request cannot include multiple operations on one item');
  return actions;
}

/**
 * Runs `body` holding dynalite's lock of every item, taken one after another in key order: every transaction takes
 * its locks in the same order and a single-item write takes one, so none can wait on another in a circle.
 */
async function withLocks<T>(store: DynaliteStore, actions: Action[], body: () => Promise<T>): Promise<T> {
  const ordered = [...actions].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const releases: (() => void)[] = [];
  try {
    for (const action of ordered) {
      const itemDb = store.getItemDb(action.table.TableName);
      const itemKey = action.key.slice(action.key.indexOf('\u0000') + 1);
      releases.push(
        await new Promise<() => void>((resolve) =>
          itemDb.lock(itemKey, (release) => resolve(release(() => undefined))),
        ),
      );
    }
    return await body();
  } finally {
    for (const release of releases.reverse()) release();
  }
}

const itemKeyOf = (action: Action) => action.key.slice(action.key.indexOf('\u0000') + 1);

function read(store: DynaliteStore, action: Action): Promise<Item | undefined> {
  return new Promise((resolve, reject) =>
    store.getItemDb(action.table.TableName).get(itemKeyOf(action), (err, item) => {
      if (err && err.name !== 'NotFoundError') reject(err);
      else resolve(err ? undefined : item);
    }),
  );
}

export interface Transactions {
  transactWriteItems(input: Obj): Promise<Obj>;
  transactGetItems(input: Obj): Promise<Obj>;
  /**
   * Refuses a PutItem, UpdateItem or DeleteItem (its request body) whose item an ongoing transaction holds, with
   * DynamoDB's TransactionConflictException; resolves for any other request, which dynalite then answers.
   */
  refuseHeldItem(operation: string, input: Obj): Promise<void>;
}

/** The single-item writes DynamoDB refuses while a transaction holds their item. */
const SINGLE_WRITES: Record<string, 'Item' | 'Key'> = {
  PutItem: 'Item',
  UpdateItem: 'Key',
  DeleteItem: 'Key',
};

/** One action's part of a transaction: its cancellation reason, and the item it leaves (null: deleted; undefined: none). */
function outcomeOf(
  store: DynaliteStore,
  action: Action,
  old: Item | undefined,
): { reason: Obj; item: Item | null | undefined } {
  if (db.checkConditional(action.data, old)) {
    const reason = {
      Code: 'ConditionalCheckFailed',
      Message: 'The conditional request failed',
      ...(action.data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? { Item: old } : {}),
    };
    return { reason, item: undefined };
  }
  if (action.kind === 'Put') return { reason: { Code: 'None' }, item: action.data.Item as Item };
  if (action.kind === 'Delete') return { reason: { Code: 'None' }, item: null };
  if (action.kind !== 'Update') return { reason: { Code: 'None' }, item: undefined };
  const item = old ? updater.deepClone(old) : { ...(action.data.Key as Item) };
  const updates = action.data._updates as { sections: unknown } | undefined;
  const failed = updates && updater.applyUpdateExpression(updates.sections, action.table, item);
  const tooBig = !failed && db.itemSize(item) > store.options.maxItemSize;
  if (!failed && !tooBig) return { reason: { Code: 'None' }, item };
  const Message = failed ? failed.message : 'Item size to update has exceeded the maximum allowed size';
  return { reason: { Code: 'ValidationError', Message }, item: undefined };
}

/**
 * The reason DynamoDB gives an item whose partition key (or an index's) is over its throughput ("TransactWriteItems",
 * CancellationReason codes, API reference).
 */
const THROTTLED = {
  Code: 'ThrottlingError',
  Message: 'Throughput exceeds the current capacity of your table or secondary index.',
};

/**
 * Charges a transaction's items to their partition keys, all or none; cancels it whole, with `ThrottlingError` on
 * each item over its key's limit, when any is. Transactional writes cost 2 WCU per KB, reads 2 RCU per 4 KB.
 */
function chargeOrCancel(throughput: KeyThroughput | undefined, perAction: Charge[][], write: boolean): void {
  if (!throughput) return;
  const owner: number[] = [];
  const charges: Charge[] = [];
  perAction.forEach((list, i) => {
    for (const c of list) {
      charges.push(c);
      owner.push(i);
    }
  });
  const refused = write ? throughput.chargeWrites(charges) : throughput.chargeReads(charges);
  if (refused.length === 0) return;
  const hot = new Set(refused.map((r) => owner[r.at]));
  throw cancelled(perAction.map((_, i) => (hot.has(i) ? THROTTLED : { Code: 'None' })));
}

/** The reason DynamoDB gives an item that an ongoing transaction holds. */
const CONFLICT = { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' };

const cancelled = (reasons: Obj[]) =>
  new DynamoError(
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    { CancellationReasons: reasons },
  );

/**
 * Refuses a transaction any of whose items an ongoing TransactWriteItems holds, as DynamoDB does ("Transaction
 * conflict handling in DynamoDB"): it is cancelled whole, with `TransactionConflict` as the reason of each held item.
 */
function refuseConflicts(held: ReadonlySet<string>, actions: Action[]): void {
  if (actions.some((a) => held.has(a.key)))
    throw cancelled(actions.map((a) => (held.has(a.key) ? CONFLICT : { Code: 'None' })));
}

/**
 * Applies a transaction all or nothing: every action's condition and update is checked before any item is written.
 * From its check for conflicts to its last write it holds its items in `held`, so a transaction or a single-item
 * write that meets one of them in that time is refused, not queued.
 */
async function write(
  store: DynaliteStore,
  held: Set<string>,
  actions: Action[],
  throughput: KeyThroughput | undefined,
): Promise<void> {
  refuseConflicts(held, actions);
  for (const action of actions) held.add(action.key);
  try {
    await applyLocked(store, actions, throughput);
  } finally {
    for (const action of actions) held.delete(action.key);
  }
}

async function applyLocked(
  store: DynaliteStore,
  actions: Action[],
  throughput: KeyThroughput | undefined,
): Promise<void> {
  const writeIndexes = db.writeIndexes ?? db.updateIndexes;
  await withLocks(store, actions, async () => {
    const existing = await Promise.all(actions.map((a) => read(store, a)));
    const outcomes = actions.map((action, i) => outcomeOf(store, action, existing[i]));
    const reasons = outcomes.map((o) => o.reason);
    if (reasons.some((r) => r.Code !== 'None')) throw cancelled(reasons);
    chargeOrCancel(
      throughput,
      actions.map((action, i) => {
        const item = outcomes[i]?.item;
        if (!throughput || item === undefined) return []; // a ConditionCheck writes nothing
        return throughput.writeCharges(
          action.table as unknown as KeyedTable,
          existing[i] ?? null,
          item,
          true,
        );
      }),
      true,
    );
    // Every write starts in this turn of the event loop, so no reader sees the transaction half applied in memory.
    await Promise.all(
      actions.map(async (action, i) => {
        const item = outcomes[i]?.item;
        if (item === undefined) return; // ConditionCheck
        await promised((cb) => writeIndexes(store, action.table, existing[i] ?? null, item, cb));
        const itemDb = store.getItemDb(action.table.TableName);
        await promised((cb) =>
          item === null ? itemDb.del(itemKeyOf(action), cb) : itemDb.put(itemKeyOf(action), item, cb),
        );
      }),
    );
  });
}

/** ClientRequestToken -> the request it was first used with and when that one completed. */
type Tokens = Map<string, { fingerprint: string; at?: number }>;

/**
 * Whether a transaction with this token was already applied (true: answer it as done), after refusing a token used
 * with another request or still in progress. Tokens are kept in the order they came (the SDK sends one with every
 * transaction): the expired ones are at the front, so forgetting them stops at the first that is not.
 */
function alreadyApplied(tokens: Tokens, token: string, fingerprint: string, nowMs: number): boolean {
  for (const [key, seen] of tokens) {
    if (seen.at === undefined) continue;
    if (nowMs - seen.at <= TOKEN_LIFE_MS) break;
    tokens.delete(key);
  }
  const seen = tokens.get(token);
  if (!seen) return false;
  if (seen.fingerprint !== fingerprint)
    throw new DynamoError(
      'IdempotentParameterMismatchException',
      'The request uses the same client token as a previous, but non-identical request.',
    );
  if (seen.at === undefined)
    throw new DynamoError(
      'TransactionInProgressException',
      'The transaction with the given request token is already in progress.',
    );
  return true;
}

export function createTransactions(
  store: DynaliteStore,
  now: () => number = () => Date.now(),
  /** Per-partition-key throughput (tools/local/dynamoKeyThroughput.ts); none: nothing is charged. */
  throughput?: KeyThroughput,
): Transactions {
  const tokens: Tokens = new Map();
  /** The items (table + key) of every TransactWriteItems between its conflict check and its last write. */
  const held = new Set<string>();
  return {
    async transactWriteItems(input) {
      const actions = await prepareAll(store, input, ['ConditionCheck', 'Put', 'Update', 'Delete']);
      const token = input.ClientRequestToken;
      if (token === undefined) {
        await write(store, held, actions, throughput);
        return {};
      }
      if (typeof token !== 'string' || token.length < 1 || token.length > 36)
        throw validationError('ClientRequestToken must be 1 to 36 characters long');
      const fingerprint = JSON.stringify(input.TransactItems);
      if (alreadyApplied(tokens, token, fingerprint, now())) return {};
      tokens.set(token, { fingerprint });
      try {
        await write(store, held, actions, throughput);
      } catch (error) {
        // Only a request that was applied is remembered: a cancelled or refused one may be sent again as it was.
        tokens.delete(token);
        throw error;
      }
      tokens.set(token, { fingerprint, at: now() });
      return {};
    },

    async transactGetItems(input) {
      const actions = await prepareAll(store, input, ['Get']);
      refuseConflicts(held, actions);
      const items = await withLocks(store, actions, () => Promise.all(actions.map((a) => read(store, a))));
      chargeOrCancel(
        throughput,
        actions.map((action, i) => {
          const schema = (action.table as unknown as KeyedTable).KeySchema;
          const attribute = (schema.find((k) => k.KeyType === 'HASH') ?? schema[0])?.AttributeName;
          const key = attribute ? keyValue((action.data.Key as Item)[attribute]) : undefined;
          const item = items[i];
          const units = 2 * Math.max(1, Math.ceil((item ? db.itemSize(item) : 0) / 4096));
          return key === undefined ? [] : [{ table: action.table.TableName, key, units }];
        }),
        false,
      );
      return {
        Responses: items.map((item, i) => {
          if (!item) return {};
          const projection = (actions[i] as Action).data._projection as { paths: unknown } | undefined;
          return { Item: projection ? db.mapPaths(projection.paths, item) : item };
        }),
      };
    },

    async refuseHeldItem(operation, input) {
      const part = SINGLE_WRITES[operation];
      const keyed = part && input[part];
      if (held.size === 0 || !isObj(keyed) || typeof input.TableName !== 'string') return;
      // A request dynalite will refuse anyway (no such table, a malformed key) is left to it to answer.
      const table = await promised<Table>((cb) => store.getTable(String(input.TableName), cb)).catch(
        () => undefined,
      );
      if (!table || (part === 'Item' ? db.validateItem : db.validateKey)(keyed as Item, table)) return;
      if (held.has(`${table.TableName}\u0000${db.createKey(keyed as Item, table)}`))
        throw new DynamoError('TransactionConflictException', CONFLICT.Message);
    },
  };
}

/** The IAM actions one transaction is authorized by, with their tables: AWS checks each item's own action. */
export function transactionScope(
  operation: string,
  input: Obj,
  table: (name: unknown) => string,
): { action: string; resources: string[] }[] {
  const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
  const action = {
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    ConditionCheck: 'ConditionCheckItem',
    Get: 'GetItem',
  };
  const byAction = new Map<string, Set<string>>();
  for (const element of items) {
    if (!isObj(element)) continue;
    for (const [kind, name] of Object.entries(action)) {
      const part = element[kind];
      if (!isObj(part) || (operation === 'TransactGetItems') !== (kind === 'Get')) continue;
      const resources = byAction.get(`dynamodb:${name}`) ?? new Set<string>();
      resources.add(table(part.TableName));
      byAction.set(`dynamodb:${name}`, resources);
    }
  }
  return [...byAction].map(([a, resources]) => ({ action: a, resources: [...resources] }));
}
