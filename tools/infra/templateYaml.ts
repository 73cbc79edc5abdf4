// The template as YAML: CloudFormation's short forms (!Ref, !Sub, ...) read as their long forms, and the checks
// every reader of a value shares (types, parameters, SAM Globals).
import type { CollectionTag, ScalarTag } from 'yaml';
import { Pair, Scalar, YAMLMap } from 'yaml';
import type { Obj } from './templateTypes';

// ------------------------------------------------------------------ YAML short forms

export const SHORT_FORMS = [
  'Ref',
  'Condition',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'FindInMap',
  'Base64',
  'GetAZs',
  'ImportValue',
  'Cidr',
  'Length',
  'ToJsonString',
  'Transform',
];

export function longForm(short: string): string {
  return short === 'Ref' || short === 'Condition' ? short : `Fn::${short}`;
}

/** One tag per node kind: the yaml package picks a tag by tag name and collection type. */
export function cfnTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const short of SHORT_FORMS) {
    const key = longForm(short);
    tags.push({
      tag: `!${short}`,
      identify: () => false,
      // `!GetAtt A.B` is the string form of `Fn::GetAtt: [A, B]`; the attribute itself may contain dots.
      resolve: (text: string) => ({ [key]: short === 'GetAtt' ? splitGetAtt(text) : text }),
    });
    for (const collection of ['map', 'seq'] as const) {
      tags.push({
        tag: `!${short}`,
        collection,
        identify: () => false,
        // Wrap the node (not its JS value) so that nested short forms and anchors resolve in doc.toJS().
        resolve: (node) => {
          const map = new YAMLMap();
          map.items.push(new Pair(new Scalar(key), node));
          return map;
        },
      });
    }
  }
  return tags;
}

export function splitGetAtt(text: string): string[] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
}

// ------------------------------------------------------------------ helpers

export const NO_VALUE = Symbol('AWS::NoValue');

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function intrinsicKey(value: Obj): string | undefined {
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined) return undefined;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

export function str(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${path}: expected a string, got ${JSON.stringify(value)}`);
}

export function list(value: unknown, path: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new Error(`${path}: expected a list, got ${JSON.stringify(value)}`);
}

export function num(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${path}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

/** SAM Globals: maps merge (the resource wins), lists concatenate, scalars and intrinsics are overridden. */
export function mergeGlobals(global: unknown, own: unknown): unknown {
  if (own === undefined) return global;
  if (Array.isArray(global) && Array.isArray(own)) return [...global, ...own];
  if (isObj(global) && isObj(own) && !intrinsicKey(global) && !intrinsicKey(own)) {
    const merged: Obj = { ...global };
    for (const [key, value] of Object.entries(own)) merged[key] = mergeGlobals(global[key], value);
    return merged;
  }
  return own;
}

/** CloudFormation compares condition operands as strings: `!Equals [!Ref Count, 3]` holds for '3'. */
export function looseEqual(a: unknown, b: unknown): boolean {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  return scalar(a) && scalar(b) && String(a) === String(b);
}

export function validateParameter(name: string, decl: Obj, value: string): string | string[] {
  const type = typeof decl.Type === 'string' ? decl.Type : 'String';
  const fail = (why: string): never => {
    throw new Error(`Parameter ${name}: value ${JSON.stringify(value)} ${why}`);
  };
  const isList = type === 'CommaDelimitedList' || type.startsWith('List<');
  const values = isList ? value.split(',').map((v) => v.trim()) : [value];
  for (const v of values) {
    if (Array.isArray(decl.AllowedValues) && !decl.AllowedValues.map(String).includes(v)) {
      fail(`is not one of the AllowedValues ${decl.AllowedValues.join(', ')}`);
    }
    if (typeof decl.AllowedPattern === 'string' && !new RegExp(`^(?:${decl.AllowedPattern})$`).test(v)) {
      fail(`does not match AllowedPattern ${decl.AllowedPattern}`);
    }
    if (type === 'Number' || type === 'List<Number>') {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) fail('is not a number');
      if (decl.MinValue !== undefined && n < Number(decl.MinValue))
        fail(`is below MinValue ${decl.MinValue}`);
      if (decl.MaxValue !== undefined && n > Number(decl.MaxValue))
        fail(`is above MaxValue ${decl.MaxValue}`);
    }
    if (decl.MinLength !== undefined && v.length < Number(decl.MinLength))
      fail(`is shorter than MinLength ${decl.MinLength}`);
    if (decl.MaxLength !== undefined && v.length > Number(decl.MaxLength))
      fail(`is longer than MaxLength ${decl.MaxLength}`);
  }
  return isList ? values : value;
}
