// Unit specs live beside the code (src/**/*.spec.ts); e2e specs (test/**/*.e2e-spec.ts)
// boot the real application and talk HTTP to it, once on the embedded PGlite database
// and, when TEST_DATABASE_URL names a PostgreSQL server, once more on that server.
//
// NestJS 12 ships ES modules. Node runs them from our CommonJS build natively
// (require(esm)), but Jest's own module loader can do that only on Node >= 24.9, so on
// older Node the ESM files under node_modules are compiled to CommonJS by babel-jest.
const base = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '/node_modules/.+\\.[mc]?js$': [
      'babel-jest',
      {
        babelrc: false,
        configFile: false,
        sourceType: 'unambiguous',
        plugins: [
          require.resolve('./test/support/babel-drop-create-require.js'),
          'babel-plugin-transform-import-meta',
          '@babel/plugin-transform-dynamic-import',
          '@babel/plugin-transform-modules-commonjs',
        ],
      },
    ],
  },
  transformIgnorePatterns: [],
  moduleFileExtensions: ['ts', 'js', 'json', 'cjs', 'mjs'],
  // The workspace packages (packages/*) from their sources, not their last build.
  moduleNameMapper: {
    '^@nest-auth-backend/token-contract$': '<rootDir>/packages/token-contract/src/index.ts',
    '^@nest-auth-backend/revocation-window$': '<rootDir>/packages/revocation-window/src/index.ts',
    '^@nest-auth-backend/client$': '<rootDir>/packages/nest-auth-client/src/index.ts',
  },
};

const e2e = (name, setupFile) => ({
  ...base,
  displayName: name,
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  setupFiles: [setupFile],
});

module.exports = {
  testTimeout: 60_000,
  // Each e2e file boots whole apps (PGlite's WebAssembly Postgres, Prisma's query compiler,
  // a Chromium): a worker that grew past this is replaced between files, so the suite's
  // memory stays that of one file rather than the sum of all of them (4 GB and an abort
  // once the suite had grown to ~90 files).
  workerIdleMemoryLimit: '1GB',
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/packages/*/src/**/*.spec.ts', '<rootDir>/test/deploy/*.spec.ts'] },
    e2e('e2e:pglite', '<rootDir>/test/support/use-pglite.ts'),
    ...(process.env.TEST_DATABASE_URL ? [e2e('e2e:postgres', '<rootDir>/test/support/use-postgres.ts')] : []),
  ],
};
