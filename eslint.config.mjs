// ESLint flat config: the recommended JavaScript and type-aware TypeScript rules, with
// formatting left to Prettier.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "render/", "**/node_modules/", "tests/__golden__/"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: {
                projectService: { allowDefaultProject: ["*.js", "*.mjs", "tools/*.js"] },
                tsconfigRootDir: import.meta.dirname,
            },
        },
        rules: {
            // Test assertions and the mock evaluator read untyped objects by design.
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },
    {
        files: ["tools/*.js", "jest*.config.js"],
        languageOptions: {
            globals: {
                module: "writable",
                require: "readonly",
                process: "readonly",
                __dirname: "readonly",
                console: "readonly",
            },
        },
    },
    prettier,
);
