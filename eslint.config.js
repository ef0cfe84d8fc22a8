// Lint: eslint's and typescript-eslint's recommended rules, React's hook rules, plus the two
// type-aware promise rules (a promise nobody awaits or catches is an error nobody sees; an async
// callback where a void one is expected loses its rejection). Formatting is prettier's job.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'models/**', 'host/types/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json', './panels/obs/tsconfig.json', './panels/premiere/tsconfig.json', './panels/premiere-uxp/tsconfig.json', './host/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `_`-prefixed names are deliberately unused (express error handlers need four parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  // One way to import the wire: src/shared/api.ts, never its parts.
  {
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['src/shared/api.ts', 'src/shared/api/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: 'shared/api/', message: 'import the wire from src/shared/api.ts' }] }] },
  },
  {
    files: ['panels/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  // Build configs outside every tsconfig: syntax rules only.
  { files: ['**/vite.config.ts', 'eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
