// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'build/',
      'dist/',
      'coverage/',
      '**/*.tmp.mts',
      // Deliberately broken, for the CLI's "does not build" error.
      'test/vats/syntax-error.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: { ...globals.node, harden: 'readonly', lockdown: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['kernel/**', 'vat-supervisor/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/node/**', '**/extension/**'],
              message: 'kernel/ and vat-supervisor/ must not import a host.',
            },
          ],
        },
      ],
    },
  },
  {
    // What runs in the browser cannot use the Node host; only the build steps may.
    files: ['extension/**'],
    ignores: ['extension/build/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/node/**'],
              message: 'extension/ runs in the browser; the Node host is not there.',
            },
          ],
        },
      ],
    },
  },
);
