// @ts-check
// ESLint (typescript-eslint strict), run by `npm test` through `npm run lint`.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'src/config/schema-validator.generated.ts',
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'test/fixtures/**',
      'data/**',
      'backups/**',
      'restored/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // With noUncheckedIndexedAccess every index is `T | undefined`; `!` after a check the compiler cannot follow
      // (a length test, a find on a key just set) is the idiom, and the alternative is a throw per line.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Terminal input and output are made of control characters (ESC sequences, Backspace, NUL): matching
      // them is what the key reader, the frame tests and the name checks are for.
      'no-control-regex': 'off',
      // Prettier wraps code at 120 columns; comments must be wrapped by hand. Long messages stay whole
      // (a string split in two is harder to find with grep than a long line is to read).
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
);
