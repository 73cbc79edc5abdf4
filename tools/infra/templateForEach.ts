// The AWS::LanguageExtensions transform's Fn::ForEach, expanded the way CloudFormation does before the SAM transform
// and before anything reads the template: each `Fn::ForEach::<Loop>: [Identifier, [values], {OutputKey: value}]`
// becomes one copy of its fragment per value, with `${Identifier}` (and `&{Identifier}`, the value without its
// non-alphanumeric characters) replaced in every key and string and `Ref: Identifier` replaced by the value. Then
// `Ref` and `Fn::GetAtt` whose logical id is an `Fn::Sub` without variables left read as that id, which the
// transform allows so that a loop can name the resources it makes. Sources: docs/PARITY.md, "Fn::ForEach".
import type { Obj } from './templateTypes';
import { isObj } from './templateYaml';

const TRANSFORM = 'AWS::LanguageExtensions';
const LOOP = 'Fn::ForEach::';
/** The sections CloudFormation expands loops in; a loop anywhere else is a template error. */
const SECTIONS = ['Conditions', 'Resources', 'Outputs'];

/** The template with every Fn::ForEach expanded; one without loops is returned as it is. */
export function expandForEach(raw: Obj, where: string): Obj {
  if (!JSON.stringify(raw).includes(`"${LOOP}`)) return raw;
  const transforms = Array.isArray(raw.Transform) ? raw.Transform : [raw.Transform];
  if (!transforms.includes(TRANSFORM)) {
    throw new Error(
      `${where}: Fn::ForEach needs Transform: ${TRANSFORM} (before AWS::Serverless-2016-10-31)`,
    );
  }
  for (const [section, value] of Object.entries(raw)) {
    if (!SECTIONS.includes(section) && JSON.stringify(value).includes(`"${LOOP}`)) {
      throw new Error(`${where}: ${section}: Fn::ForEach may be used only in ${SECTIONS.join(', ')}`);
    }
  }
  const out: Obj = { ...raw };
  for (const section of SECTIONS) {
    const value = raw[section];
    if (isObj(value)) out[section] = expandValue(value, `${where}: ${section}`);
  }
  const resources = isObj(out.Resources) ? out.Resources : {};
  for (const id of Object.keys(resources)) {
    if (!/^[A-Za-z0-9]+$/.test(id)) {
      throw new Error(
        `${where}: Resources.${id}: a logical id must be alphanumeric (use &{Identifier} for such values)`,
      );
    }
  }
  return out;
}

function expandValue(value: unknown, at: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => expandValue(v, `${at}[${i}]`));
  if (!isObj(value)) return value;
  const out: Obj = {};
  const put = (key: string, v: unknown, path: string) => {
    if (key in out) throw new Error(`${path}: ${key} is made twice`);
    out[key] = v;
  };
  for (const [key, v] of Object.entries(value)) {
    const path = `${at}.${key}`;
    if (!key.startsWith(LOOP)) {
      put(key, expandValue(v, path), path);
      continue;
    }
    if (!/^[A-Za-z0-9]+$/.test(key.slice(LOOP.length)))
      throw new Error(`${path}: the loop's name must be alphanumeric`);
    const [identifier, collection, fragment, ...extra] = Array.isArray(v) ? v : [];
    if (
      typeof identifier !== 'string' ||
      !/^[A-Za-z0-9]+$/.test(identifier) ||
      extra.length > 0 ||
      !isObj(fragment)
    ) {
      throw new Error(`${path}: expected [Identifier, [values], {OutputKey: OutputValue}]`);
    }
    if (!Array.isArray(collection) || collection.some((item) => typeof item !== 'string')) {
      throw new Error(
        `${path}: the collection must be a list of strings here (a Ref to a CommaDelimitedList is not emulated)`,
      );
    }
    if (
      !Object.keys(fragment).some((k) => k.includes(`\${${identifier}}`) || k.includes(`&{${identifier}}`))
    ) {
      throw new Error(`${path}: each OutputKey must contain \${${identifier}} or &{${identifier}}`);
    }
    for (const item of collection as string[]) {
      const copy = expandValue(namedIds(substitute(fragment, identifier, item)), `${path}[${item}]`) as Obj;
      for (const [k, made] of Object.entries(copy)) put(k, made, `${path}[${item}]`);
    }
  }
  return out;
}

/** Every function of the expansion: a change to any of them must miss the parse cache (template.ts PARSER). */
export const FOR_EACH_PARTS = () => [expandForEach, expandValue, substitute, namedIds];

function substitute(value: unknown, identifier: string, item: string): unknown {
  if (typeof value === 'string') {
    return value
      .split(`\${${identifier}}`)
      .join(item)
      .split(`&{${identifier}}`)
      .join(item.replace(/[^A-Za-z0-9]/g, ''));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, identifier, item));
  if (!isObj(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && value.Ref === identifier) return item;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      substitute(k, identifier, item) as string,
      substitute(v, identifier, item),
    ]),
  );
}

/** `Ref: !Sub X` and `Fn::GetAtt: [!Sub X, Attr]` with nothing left to substitute in X read as the logical id X. */
function namedIds(value: unknown): unknown {
  const literal = (v: unknown) => {
    const sub = isObj(v) && Object.keys(v).length === 1 ? v['Fn::Sub'] : undefined;
    return typeof sub === 'string' && !sub.includes('${') ? sub : undefined;
  };
  if (Array.isArray(value)) return value.map(namedIds);
  if (!isObj(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && literal(value.Ref) !== undefined)
    return { Ref: literal(value.Ref) };
  const getAtt = value['Fn::GetAtt'];
  if (keys.length === 1 && Array.isArray(getAtt) && literal(getAtt[0]) !== undefined) {
    return { 'Fn::GetAtt': [literal(getAtt[0]), ...getAtt.slice(1).map(namedIds)] };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, namedIds(v)]));
}
