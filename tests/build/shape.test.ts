import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { cyclesOf } from '../helpers/importGraph';

/**
 * The repository's shape: no module imports itself back through others (type-only imports included: a cycle of
 * types still ties the modules' meaning together), and the product's files and functions stay within a size a reader
 * can hold (below). client/ also keeps its bundle-size limit (tests/client/bundle.test.ts), which users feel.
 */
const root = join(__dirname, '..', '..');
const SOURCE = /\.(ts|mjs|cjs|js|css|html)$|\.asl\.json$/;
const FOLDERS = ['client', 'functions', 'protocol', 'scripts', 'statemachines', 'tests', 'tools', 'web'];

/** The repository's own files in those folders, as git knows them (nothing generated, nothing ignored). */
function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...FOLDERS], {
    cwd: root,
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter((file) => SOURCE.test(file) && !file.endsWith('.d.ts') && existsSync(join(root, file)));
}

/**
 * package.json's `imports`: the `#core/*`-style aliases, each to one path pattern (docs/DECISIONS.md, "Service
 * design").
 */
const ALIASES: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports;

/** The repository path an `#alias` specifier names (as Node, esbuild and Jest map it), if an alias matches. */
function aliasTarget(specifier: string): string | undefined {
  for (const [key, path] of Object.entries(ALIASES)) {
    const star = key.indexOf('*');
    if (star < 0 ? specifier === key : specifier.startsWith(key.slice(0, star))) {
      return join(root, star < 0 ? path : path.replace('*', specifier.slice(star)));
    }
  }
  return undefined;
}

/** The repository file a relative or `#alias` import names, if it is one of ours. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = specifier.startsWith('#')
    ? aliasTarget(specifier)
    : specifier.startsWith('.')
      ? resolve(dirname(join(root, from)), specifier)
      : undefined;
  if (base === undefined) return undefined;
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
  }
  return undefined;
}

/** Each module's import specifiers as written (static, dynamic `import()` and `require`, type-only included). */
function specifiersOf(file: string): string[] {
  return ts
    .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    .importedFiles.map((i) => i.fileName);
}

const modules = () => sourceFiles().filter((file) => /\.(ts|mjs|js)$/.test(file));

/** The repository files `file` imports (type-only imports included), where they resolve to one. */
const importsOf = (file: string) =>
  specifiersOf(file)
    .map((specifier) => resolveImport(file, specifier))
    .filter((target): target is string => target !== undefined);

it('has no import cycle, type-only imports included', () => {
  const graph = new Map(modules().map((file) => [file, importsOf(file)]));
  expect(graph.get('functions/core/limits/rateLimit.ts')).toContain('functions/core/ports.ts');
  expect(graph.get('web/app.js')).toContain('web/state.js');
  expect(cyclesOf(graph)).toEqual([]);
});

it('finds a cycle when there is one', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts']],
  ]);
  expect(cyclesOf(graph)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts']);
});

/**
 * What ships (the functions, the client package, the web page, the protocol) never imports the workshops: the local
 * cloud and build tools (tools/), the scripts (scripts/) or the tests (tests/). Such an import would bundle a
 * devDependency (the local IAM's AGPL simulator, dynalite) into a Lambda or the page, or make product behaviour
 * depend on a test's stand-in. Checked on the path a relative specifier names, whether or not the file exists, so
 * `../tools/x.js` for `x.ts` counts too.
 */
const PRODUCT = ['functions/', 'client/', 'web/', 'protocol/'];
const WORKSHOPS = ['tools', 'scripts', 'tests'];

/** Each import of a product module into a workshop, as `from -> specifier`. */
function workshopImports(files: string[]): string[] {
  return files
    .filter((file) => PRODUCT.some((folder) => file.startsWith(folder)))
    .flatMap((file) =>
      specifiersOf(file)
        .filter((specifier) => {
          if (!specifier.startsWith('.')) return false;
          const [top] = relative(root, resolve(dirname(join(root, file)), specifier)).split(/[\\/]/);
          return WORKSHOPS.includes(top as string);
        })
        .map((specifier) => `${file} -> ${specifier}`),
    );
}

it('keeps the product (functions/, client/, web/, protocol/) from importing tools/, scripts/ or tests/', () => {
  const files = modules();
  expect(files).toContain('functions/deliver/index.ts');
  expect(files).toContain('web/app.js');
  expect(workshopImports(files)).toEqual([]);
});

/**
 * functions/platform/ is what any serverless service could stand on (errors of its own, settings and config,
 * Powertools, tracing, the clock, SDK clients, the invocation pipeline) and imports nothing of the chat: not core/,
 * no feature, not protocol/. Only other platform/ modules and packages. Otherwise the floors run both ways and a
 * change to a chat rule can reach every function through platform/. Each offending import as `from -> specifier`.
 */
function platformImports(files: string[], specifiers: (file: string) => string[]): string[] {
  return files
    .filter((file) => file.startsWith('functions/platform/'))
    .flatMap((file) =>
      specifiers(file)
        .filter((specifier) => {
          const isPackage = !specifier.startsWith('.') && !specifier.startsWith('#');
          if (isPackage) return false;
          const target = specifier.startsWith('#')
            ? aliasTarget(specifier)
            : resolve(dirname(join(root, file)), specifier);
          return target === undefined || !relative(root, target).startsWith('functions/platform/');
        })
        .map((specifier) => `${file} -> ${specifier}`),
    );
}

it('keeps functions/platform/ from importing the chat: only platform/ modules and packages', () => {
  const files = modules();
  expect(files).toContain('functions/platform/config.ts');
  expect(platformImports(files, specifiersOf)).toEqual([]);
});

it('names a platform module that imports the chat', () => {
  const planted: Record<string, string[]> = {
    'functions/platform/config.ts': ['node:path', '@aws-sdk/client-ssm', './settings', '#platform/clock'],
    'functions/platform/aws/clients.ts': [
      '#core/ports',
      '../../core/errors',
      '../../../protocol',
      '#unknown/x',
    ],
  };
  expect(platformImports(Object.keys(planted), (file) => planted[file] ?? [])).toEqual([
    'functions/platform/aws/clients.ts -> #core/ports',
    'functions/platform/aws/clients.ts -> ../../core/errors',
    'functions/platform/aws/clients.ts -> ../../../protocol',
    'functions/platform/aws/clients.ts -> #unknown/x',
  ]);
});

/**
 * The folders of functions/ (each feature, core/, platform/) and protocol/ import each other one way only: a feature
 * may use another's rule or store, never one that uses it back. A cycle between two features ties their bundles
 * and their changes together; what several features need belongs in core/ (functions/README.md says who may import
 * whom). The graph is of folders: an edge for any import of a module of one from a module of another.
 */
function folderOf(file: string): string | undefined {
  const [top, folder] = file.split('/');
  if (top === 'protocol') return 'protocol';
  return top === 'functions' && folder !== undefined && !folder.includes('.')
    ? `functions/${folder}`
    : undefined;
}

function folderGraph(files: string[], imports: (file: string) => string[]): Map<string, string[]> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of imports(file)) {
      const to = folderOf(target);
      if (to !== undefined && to !== from) edges.add(to);
    }
  }
  return new Map([...graph].map(([folder, edges]) => [folder, [...edges].sort()]));
}

it('has no import cycle between the folders of functions/ (each feature, core/, platform/) and protocol/', () => {
  const graph = folderGraph(modules(), importsOf);
  expect(graph.get('functions/rooms')).toContain('functions/messages');
  expect(graph.get('functions/people')).toContain('functions/rooms');
  expect(cyclesOf(graph)).toEqual([]);
  // core/ is what every feature stands on: it imports platform/ and protocol/, no feature.
  expect(
    graph.get('functions/core')?.filter((to) => to !== 'functions/platform' && to !== 'protocol'),
  ).toEqual([]);
});

it('finds a cycle between two feature folders through any of their modules', () => {
  const planted: Record<string, string[]> = {
    'functions/rooms/joining.ts': ['functions/messages/roomHistory.ts', 'functions/core/ports.ts'],
    'functions/messages/threads.ts': ['functions/messages/ports.ts', 'functions/core/ports.ts'],
    'functions/messages/sendmessage.ts': ['functions/rooms/rooms.ts'],
    'functions/core/ports.ts': ['protocol/index.ts'],
  };
  expect(cyclesOf(folderGraph(Object.keys(planted), (file) => planted[file] ?? []))).toEqual([
    'functions/rooms -> functions/messages -> functions/rooms',
  ]);
});

/**
 * The house's size: no source file of the product (functions/, protocol/, client/'s sources, not dist/, web/'s
 * modules, the state machines' definitions) over PRODUCT_FILE_LINES lines, none of the workshops (tools/, scripts/)
 * or of web/'s style sheets and pages over FILE_LINES, and no function anywhere of them over FUNCTION_LINES. Past that a reader cannot hold a file or a function
 * in view, and one that long mixes several rules: it is cut where its meaning divides, the caps say when to look for
 * the cut. The product keeps headroom below the workshops' cap, so a feature's next change does not cut a file where
 * the limit falls. A function's length is its lines from first to last, functions nested in it counted in it as they
 * are in the text. What breaks a cap today and is not split yet is in SIZE_EXCEPTIONS, each with why.
 */
const PRODUCT_FILE_LINES = 450;
const FILE_LINES = 500;
const FUNCTION_LINES = 80;

/**
 * Which cap a file is held to: the product's, the workshops' (code), a style sheet's or a page's (lines only, the
 * workshops' cap), a state machine's definition (lines only, the product's cap); else none.
 */
function sizeRuleOf(file: string): 'product' | 'workshop' | 'stylesheet' | 'definition' | undefined {
  if (
    /^(functions|protocol)\/.+\.ts$/.test(file) ||
    /^client\/[^/]+\.ts$/.test(file) ||
    /^web\/[^/]+\.js$/.test(file)
  )
    return 'product';
  if (/^(tools|scripts)\/.+\.(ts|mjs|cjs|js)$/.test(file)) return 'workshop';
  if (/^web\/.+\.(css|html)$/.test(file)) return 'stylesheet';
  if (/^statemachines\/[^/]+\.asl\.json$/.test(file)) return 'definition';
  return undefined;
}

/**
 * What breaks a cap today, keyed `file` (the file's lines) or `file name` (a function; `function` for one without a
 * name), each with why it is not split yet. An entry whose file or function fits again fails the test until it is
 * taken out, so the list only shrinks.
 */
const SIZE_EXCEPTIONS: Record<string, string> = {
  'statemachines/fanout.asl.json':
    "one machine's one JSON document (SAM's DefinitionUri reads one file): its Map's item processor is inside it",
  'statemachines/broadcast.asl.json':
    "one machine's one JSON document (SAM's DefinitionUri reads one file): its Map's item processor is inside it",
  'scripts/check-stack.mjs main':
    'the deployed-stack check as one script run, its steps in order; split with its next check',
  'tools/bench/fanout.ts':
    "the fan-out bench's CLI, child-process runner and model bench in one file: to split by mode",
  'tools/bench/fanout.ts runRoom': "one room's bench run (cloud, clients, sends, waits) as one sequence",
  'tools/bench/fanout.ts runModelBench':
    "the model bench's table of runs and its print, to move beside the model",
  'tools/bench/fanout.ts main': 'the bench CLI: options, runs per latency and room size, the report',
  'tools/bench/modelAssembly.ts assembleResult':
    "the model's result rows, one field each; to be grouped by hop",
  'tools/bench/modelExecution.ts executions':
    "a closure over the run's shared counters holding its Express executions",
  'tools/bench/modelReader.ts roomReader': "a closure over the run's state holding the room-log reader",
  'tools/bench/modelReader.ts readRoom':
    'the reader of functions/deliver/roomLog.ts readRoom, modelled step for step',
  'tools/bench/modelSendPath.ts sendPath':
    "a closure over the run's state holding the send path's hops in order",
  'tools/bench/modelSetup.ts setUpModel':
    "the run's shared state built in one place so the parts share one clock",
  'tools/bench/options.ts parseOptions': "the bench's flags, one case each",
  'tools/bench/ownerActions.ts runOnce':
    'one owner-action bench run as one sequence (setup, action, waits, report)',
  'tools/bench/stackLimits.ts stackLimits': "the deployed stack's limits read one per line",
  'tools/cost/designs.ts':
    "every design's cost lines side by side for comparison; to split one design a file",
  'tools/cost/designs.ts wakeDrafts': "the wake design's cost lines, one per hop",
  'tools/infra/template.ts': 'the template reader for the local cloud: to split by resource kind',
  'tools/infra/template.ts eventRules': 'every EventBridge rule form the template uses, read in one pass',
  'tools/infra/template.ts queues': 'queues and their pipes read together (a pipe names its queue)',
  'tools/infra/template.ts function': 'the per-queue reader inside `queues`',
  'tools/infra/template.ts pipes': 'every Pipe property the template uses, read in one pass',
  'tools/local/cli.ts parse': "the local cloud's flags, one case each",
  'tools/local/cloud.ts startLocalCloud': "the local cloud's start: every service in dependency order",
  'tools/local/cloudServices.ts': "every service's start for the local cloud: to split one service a file",
  'tools/local/cloudServices.ts startStepFunctions':
    "the state machines' host and its wiring to the other twins",
  'tools/local/cloudServices.ts startApiGateway':
    "the WebSocket API twin's wiring (routes, authorizer, integrations)",
  'tools/local/dynamoFaults.ts startDynamoFaultProxy':
    "the fault proxy's request loop (throttles, conflicts, delays)",
  'tools/local/dynamoKeyThroughput.ts createKeyThroughput':
    "a closure over the per-key counters DynamoDB's quota reads",
  'tools/local/dynamoTransactions.ts':
    "TransactWriteItems' twin: its checks and AWS's cancellation reasons together",
  'tools/local/dynamodb.ts': 'the DynamoDB twin over dynalite (patches, limits, front): to split by concern',
  'tools/local/dynamodb.ts patchDynaliteIndexKeys':
    "one patch of dynalite's index code, kept whole to match its source",
  'tools/local/dynamodb.ts frontRequests':
    "the front that enforces AWS's limits dynalite lacks, one check per action",
  'tools/local/dynamodb.ts startDynamo': "the twin's start: dynalite, its patches and the front in order",
  'tools/local/eventbridge.ts':
    'the EventBridge twin (patterns, rules, targets, archive): to split by concern',
  'tools/local/eventbridge.ts createEventBridge': "a closure over the bus's rules and targets",
  'tools/local/iam/sigv4.ts verify': "SigV4's verification in the order the spec gives its steps",
  'tools/local/oidc.ts':
    "the development OIDC issuer's endpoints (discovery, JWKS, authorize, token) in one file",
  'tools/local/payloadLimit.ts withPayloadChecks': "every service's payload limits checked in one wrapper",
  'tools/local/pushService.ts startPushServiceStandIn': "the Web Push stand-in's one HTTP server",
  'tools/local/sqs.ts':
    "the SQS twin (FIFO groups, visibility, redrive, pipes' batching): to split by concern",
  'tools/local/sqs.ts send': "SendMessage's checks and FIFO deduplication as SQS applies them",
  'tools/local/ssm.ts createLocalSsm': 'a closure over the parameters that holds every SSM action',
  'tools/local/stepFunctionsHost.ts startStepFunctionsThread':
    "the worker thread's start and its message protocol",
  'tools/local/stepFunctionsThread.ts main': "the worker thread's loop over the host's messages",
};

/** The sources the size rules hold, as git knows them: client/dist and declaration files are built, not written. */
function sizedSources(): string[] {
  return sourceFiles().filter((file) => sizeRuleOf(file) !== undefined);
}

/** A file or function over its cap: its SIZE_EXCEPTIONS key and where it is, as `file:line: what (n lines)`. */
interface Oversize {
  key: string;
  where: string;
}

/** Each file over its cap and each function over FUNCTION_LINES in `text` (a style sheet: its lines only). */
function oversized(file: string, text: string): Oversize[] {
  const rule = sizeRuleOf(file) ?? 'workshop';
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const found: Oversize[] = [];
  const lines = lineOf(source.getEnd() - (text.endsWith('\n') ? 1 : 0));
  const cap = rule === 'product' || rule === 'definition' ? PRODUCT_FILE_LINES : FILE_LINES;
  if (lines > cap) found.push({ key: file, where: `${file}: file (${lines} lines)` });
  if (rule === 'stylesheet' || rule === 'definition') return found;
  const visit = (node: ts.Node) => {
    if (
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node) ||
      ts.isConstructorDeclaration(node)
    ) {
      const start = lineOf(node.getStart(source));
      const length = lineOf(node.getEnd()) - start + 1;
      const named = node.name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
      const name = named?.getText(source) ?? 'function';
      if (length > FUNCTION_LINES)
        found.push({ key: `${file} ${name}`, where: `${file}:${start}: ${name} (${length} lines)` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const where = (found: Oversize[]) => found.map((o) => o.where);

describe(`files within ${PRODUCT_FILE_LINES} lines (product, state machines) or ${FILE_LINES} (tools, scripts, CSS, HTML), functions within ${FUNCTION_LINES}`, () => {
  const files = sizedSources();
  const found = files.flatMap((file) => oversized(file, readFileSync(join(root, file), 'utf8')));

  it('holds the product, the workshops and the style sheets', () => {
    expect(files).toContain('functions/messages/sending.ts');
    expect(files).toContain('web/emojiPicker.js');
    expect(files).toContain('client/members.ts');
    expect(files).toContain('tools/local/s3.ts');
    expect(files).toContain('scripts/build.mjs');
    expect(files).toContain('web/chat.css');
    expect(files).toContain('web/index.html');
    expect(files).toContain('statemachines/departure.asl.json');
    expect(files).not.toContainEqual(expect.stringMatching(/^client\/dist\/|\.d\.ts$/));
  });

  it('finds nothing over its cap but the listed exceptions', () => {
    expect(where(found.filter((o) => SIZE_EXCEPTIONS[o.key] === undefined))).toEqual([]);
  });

  it('lists no exception that fits again (take its entry out)', () => {
    const over = new Set(found.map((o) => o.key));
    expect(Object.keys(SIZE_EXCEPTIONS).filter((key) => !over.has(key))).toEqual([]);
  });

  it('gives each exception its reason on one line', () => {
    expect(
      Object.entries(SIZE_EXCEPTIONS).filter(([, why]) => why.trim().length < 10 || why.includes('\n')),
    ).toEqual([]);
  });
});

it('names an oversized function and file by file:line, at the cap of its kind', () => {
  const body = Array.from({ length: FUNCTION_LINES - 1 }, (_, i) => `  const a${i} = ${i};`).join('\n');
  const fits = `export function fits() {\n${body.split('\n').slice(1).join('\n')}\n}\n`;
  const long = `const x = 1;\nexport const long = () => {\n${body}\n};\n`;
  expect(oversized('functions/a.ts', fits)).toEqual([]);
  expect(oversized('tools/b.ts', long)).toEqual([
    { key: 'tools/b.ts long', where: `tools/b.ts:2: long (${FUNCTION_LINES + 1} lines)` },
  ]);
  const lines = (n: number) => `${'\n'.repeat(n - 1)}x;\n`;
  expect(where(oversized('client/c.ts', lines(PRODUCT_FILE_LINES)))).toEqual([]);
  expect(where(oversized('client/c.ts', lines(PRODUCT_FILE_LINES + 1)))).toEqual([
    `client/c.ts: file (${PRODUCT_FILE_LINES + 1} lines)`,
  ]);
  expect(where(oversized('scripts/d.mjs', lines(PRODUCT_FILE_LINES + 1)))).toEqual([]);
  expect(where(oversized('scripts/d.mjs', lines(FILE_LINES + 1)))).toEqual([
    `scripts/d.mjs: file (${FILE_LINES + 1} lines)`,
  ]);
  // A style sheet: its lines only, held to the workshops' cap.
  expect(where(oversized('web/e.css', `a {\n${body}\n}\n`))).toEqual([]);
  expect(where(oversized('web/e.css', lines(FILE_LINES + 1)))).toEqual([
    `web/e.css: file (${FILE_LINES + 1} lines)`,
  ]);
  // A page: as a style sheet. A state machine's definition: its lines only, held to the product's cap.
  expect(where(oversized('web/f.html', lines(FILE_LINES + 1)))).toEqual([
    `web/f.html: file (${FILE_LINES + 1} lines)`,
  ]);
  expect(where(oversized('statemachines/g.asl.json', lines(PRODUCT_FILE_LINES)))).toEqual([]);
  expect(where(oversized('statemachines/g.asl.json', lines(PRODUCT_FILE_LINES + 1)))).toEqual([
    `statemachines/g.asl.json: file (${PRODUCT_FILE_LINES + 1} lines)`,
  ]);
});
