import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TemplateModule from '../../tools/infra/template';
import { cachedParse, cacheEntry, templateCacheDir } from '../../tools/infra/templateCache';

/** A fresh copy of tools/infra/template.ts, with none of this process's parses in memory: as a new process sees it. */
function freshTemplateModule(): typeof TemplateModule {
  let loaded: typeof TemplateModule | undefined;
  jest.isolateModules(() => {
    loaded = require('../../tools/infra/template') as typeof TemplateModule;
  });
  if (!loaded) throw new Error('tools/infra/template did not load');
  return loaded;
}

const templateWithTable = (tableName: string) => `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub '${tableName}-\${AWS::StackName}'
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
`;

describe('a template parsed once is read from the cache, never stale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-template-'));
  const path = join(dir, 'template.yaml');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a new process the edited template, and the first text again when it comes back', () => {
    const tableOf = () =>
      freshTemplateModule()
        .loadTemplate(path, { parameters: {} })
        .tables()
        .map((t) => t.TableName);
    const first = `first${randomUUID().slice(0, 8)}`;
    writeFileSync(path, templateWithTable(first));
    expect(tableOf()).toEqual([`${first}-roomcast-local`]);
    writeFileSync(path, templateWithTable('second'));
    expect(tableOf()).toEqual(['second-roomcast-local']);
    writeFileSync(path, templateWithTable(first));
    expect(tableOf()).toEqual([`${first}-roomcast-local`]);
  });

  it('keeps its entries to the user alone', () => {
    freshTemplateModule().readTemplateFile(path);
    expect(statSync(templateCacheDir()).mode & 0o777).toBe(0o700);
  });
});

describe('cachedParse', () => {
  const parser = `test-parser-${randomUUID()}`;
  const parses: string[] = [];
  const parse = (text: string) => {
    parses.push(text);
    return { text, at: { list: [1, 2, 3], nothing: null } };
  };

  it('parses a text once per parser, and again for another parser or another text', () => {
    const text = `Resources: {} # ${randomUUID()}`;
    expect(cachedParse(text, parser, parse)).toEqual({ text, at: { list: [1, 2, 3], nothing: null } });
    expect(cachedParse(text, parser, parse)).toEqual({ text, at: { list: [1, 2, 3], nothing: null } });
    expect(parses).toEqual([text]);
    cachedParse(text, `${parser}-changed`, parse);
    cachedParse(`${text} `, parser, parse);
    expect(parses).toEqual([text, text, `${text} `]);
  });

  it('parses again, and answers right, when an entry is damaged', () => {
    const text = `Resources: {} # ${randomUUID()}`;
    cachedParse(text, parser, parse);
    writeFileSync(cacheEntry(text, parser), 'damaged');
    parses.length = 0;
    expect(cachedParse(text, parser, parse)).toEqual({ text, at: { list: [1, 2, 3], nothing: null } });
    expect(parses).toEqual([text]);
  });
});
