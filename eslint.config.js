// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// The import rules below keep the architecture honest: code is placed by where it runs.
const noMainFromElsewhere = {
  group: ['**/main/**', '**/src/main/**'],
  message: 'src/main is Node-only: talk to it through the API contract in src/shared/api.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'coverage/**',
      'test-results/**',
      'playwright-report/**',
      'contracts/artifacts/**',
      'contracts/cache/**',
      'contracts/generated/**',
      'contracts/functions/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: [
      'src/main/**',
      'src/preload/**',
      'scripts/**',
      'e2e/**',
      'bin/**',
      'contracts/**',
      '*.config.{ts,js}',
    ],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/main/**'],
    ignores: ['src/main/index.ts', 'src/main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message:
                'Services have no Electron import: only src/main/index.ts and src/main/electron/ may use it.',
            },
          ],
          patterns: [{ group: ['react', 'react-dom', 'react/*'], message: 'main never imports React.' }],
        },
      ],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react'],
          patterns: [
            { group: ['node:*'], message: 'src/shared runs anywhere: no Node built-ins.' },
            noMainFromElsewhere,
            { group: ['**/renderer/**'], message: 'src/shared must not depend on the renderer.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron'],
          patterns: [noMainFromElsewhere, { group: ['node:*'], message: 'The renderer runs in a browser.' }],
        },
      ],
    },
  },
);
