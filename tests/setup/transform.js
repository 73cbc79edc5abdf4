// Jest's transform for the tests and everything they import (TypeScript, and @middy's ES-module-only JavaScript):
// esbuild, the compiler scripts/build.mjs bundles the functions with, file by file to CommonJS for Jest's module
// system. Each file is compiled on its own (tsconfig.json's isolatedModules), so no type information is needed:
// the type check is `tsc --noEmit` in `npm run lint`. Its class fields follow tsconfig.json's target (ES2022: define
// semantics), as TypeScript's would, and a dynamic import() becomes a require() as TypeScript's CommonJS output
// has it (Jest's module system runs no ES module without --experimental-vm-modules).
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { transformSync, version } = require('esbuild');

const tsconfigRaw = { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: false } };
/** This file's own text, in every cache key: a changed option compiles everything again. */
const self = readFileSync(__filename);

module.exports = {
  getCacheKey(source, path, options) {
    return createHash('sha256')
      .update(`esbuild ${version}\0${path}\0${options.configString}\0`)
      .update(self)
      .update(source)
      .digest('hex');
  },
  process(source, path) {
    const { code, map } = transformSync(source, {
      loader: path.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'es2022',
      platform: 'node',
      supported: { 'dynamic-import': false },
      sourcemap: 'external',
      sourcesContent: false,
      sourcefile: path,
      tsconfigRaw,
    });
    return { code, map };
  },
};
