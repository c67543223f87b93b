// ESLint for the TypeScript program, its tools and tests (`npm run lint`, run by `npm test`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import comments from "@eslint-community/eslint-plugin-eslint-comments";

export default tseslint.config(
    { ignores: ["node_modules/**", "policy/node_modules/**", "bin-out/**"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        plugins: { "@eslint-community/eslint-comments": comments },
        rules: {
            // A rule switched off in one place says why, on the same line (`-- reason`).
            "@eslint-community/eslint-comments/require-description": "error",
            // `_`-prefixed names are deliberately unused (destructuring to drop a key, callback positions).
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
        },
    },
    {
        // The program and its config state what the schema guarantees in their types (config/schema.ts StackConfig), so none asserts it.
        files: ["index.ts", "components/**/*.ts", "config/**/*.ts"],
        rules: { "@typescript-eslint/no-non-null-assertion": "error" },
    },
    {
        // Tests read rendered manifests and mock inputs, which are free-form JSON: `any` is the honest type there.
        files: ["test/**/*.ts", "policy/test/**/*.ts", "bench/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        // The one CommonJS file runs before ts-node is registered (it registers it), so it can only `require`.
        files: ["**/*.cjs"],
        languageOptions: { sourceType: "commonjs", globals: { require: "readonly" } },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
