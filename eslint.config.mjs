// ESLint's flat config: typescript-eslint with type information for every TypeScript file
// (each file is checked against the tsconfig.json nearest to it), eslint-plugin-jest for the
// specs, and eslint-config-prettier last, so that formatting is Prettier's alone (`npm run lint`
// runs both). Every rule turned off or down below says why on its line.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', 'src/generated/', 'coverage/', 'bench/results/', '.data/'] },
  js.configs.recommended,
  {
    files: ['**/*.{js,cjs,mjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: {
          // The workspace packages' own tsconfigs leave their specs out (they are not built): the root one checks them.
          allowDefaultProject: ['packages/*/src/*.spec.ts'],
          // One spec file a package source, three packages: more than typescript-eslint's default of 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32,
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `_`-prefixed parameters and destructured leftovers are how the code says "unused on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Nest's decorators, class-validator and passport callbacks are typed loosely upstream; `any` is checked where it enters, not banned.
      '@typescript-eslint/no-explicit-any': 'off',
      // Fire-and-forget is written `void promise`; a promise left floating without it is an error.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
    },
  },
  {
    // Transactions are passed one way (`Tx`, src/database/tx.ts): a method that must run inside the
    // caller's transaction takes `tx: Tx` FIRST and required. A transaction parameter that is
    // optional, defaulted (`db: Db = this.prisma`) or `| undefined` lets a forgotten argument
    // run silently outside the transaction; write two methods instead (`audit.record(tx, …)`
    // and `audit.recordAlone(…)`).
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          'Identifier[optional=true][name=/^(tx|db)$/]',
          'AssignmentPattern[left.name=/^(tx|db)$/]',
          'Identifier[name=/^(tx|db)$/] > TSTypeAnnotation > TSUnionType > TSUndefinedKeyword',
          'Identifier[optional=true] > TSTypeAnnotation > TSTypeReference:matches([typeName.name="Tx"], [typeName.right.name="TransactionClient"])',
          'AssignmentPattern > Identifier.left > TSTypeAnnotation > TSTypeReference:matches([typeName.name="Tx"], [typeName.right.name="TransactionClient"])',
        ].map((selector) => ({
          selector,
          message: 'A transaction is a required first parameter (`tx: Tx`), never optional or defaulted: a forgotten one would run outside it.',
        })),
        ...[':function > Identifier[name="tx"]:not(:first-child)', 'TSMethodSignature > Identifier[name="tx"]:not(:first-child)'].map((selector) => ({
          selector,
          message: 'A transaction is the first parameter (`tx: Tx`), in every method alike.',
        })),
      ],
    },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      // Specs read HTTP answers as `any` JSON bodies (test/support/http.ts): the assertions are the type check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Many specs assert inside helpers (`refused(token)`, `expectError(res, 401)`, fast-check's `fc.assert`) that the rule cannot see.
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'refused*', 'assert*', 'fc.assert'] }],
      // Races have more than one right outcome: a spec asserts what holds for the outcome it observed (and counts them).
      'jest/no-conditional-expect': 'off',
      // A spec checks in beforeAll/afterEach that its set-up holds (e.g. "the genuine token still works after each attack").
      'jest/no-standalone-expect': ['error', { additionalTestBlockFunctions: ['beforeAll', 'beforeEach', 'afterEach'] }],
      // Fakes implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // jest.fn() and spies are passed unbound on purpose; jest/unbound-method knows them.
      '@typescript-eslint/unbound-method': 'off',
      'jest/unbound-method': 'error',
    },
  },
  {
    // Preact props declared in method syntax (`onDone(): void`) are plain functions that nothing binds.
    files: ['console/src/**/*.tsx'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // The NestJS documentation's JWT recipe, kept exactly as the docs write it: the benchmark measures that code, not ours.
    files: ['bench/nest-docs-recipe/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
);
