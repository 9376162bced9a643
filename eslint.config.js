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
    files: ['node/**', 'bench/**', 'test/**', 'vats/**', 'bin/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
