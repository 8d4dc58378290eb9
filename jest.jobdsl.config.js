/**
 * The Job DSL tier (npm run test:jobdsl): the generated Job DSL scripts run under Groovy 2.4.21,
 * Jenkins' own, against stand-ins for the Jenkins objects they touch (tests/jobdsl/). Needs a JDK
 * and the Groovy jar (npm run groovy:fetch), so it is a tier of its own beside the unit suite.
 * @type {import('jest').Config}
 */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.jobdsl.ts"],
    setupFilesAfterEnv: ["<rootDir>/tests/setup.ts"],
    reporters: ["default", "<rootDir>/tools/summaryReporter.js"],
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
