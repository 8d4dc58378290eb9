/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    setupFilesAfterEnv: ["<rootDir>/tests/setup.ts"],
    // A stack's evaluation takes 0.1-0.5 s on a quiet 2-core machine and several times that under
    // load; a test that evaluates a dozen could pass 5 s (jest's default) on a fresh clone's first
    // run, when ts-jest also transforms every file. Tests that run suites or processes of their own
    // set longer ones.
    testTimeout: 30_000,
    reporters: ["default", "<rootDir>/tools/summaryReporter.js"],
    // Type checking runs once in `npm test` (tsc --noEmit); ts-jest only transpiles, which keeps the suite fast.
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
