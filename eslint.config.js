import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "libs/testkit/go/**", "examples/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  { files: ["services/hub/dashboard/**/*.js"], languageOptions: { globals: { ...globals.browser } } },
  { files: ["**/*.mjs", "**/*.mts", "scripts/**", "bench/**"], languageOptions: { globals: { ...globals.node } } },
);
