/**
 * The cluster tier (npm run test:cluster): the stacks' renders on the real API server KUBECONFIG
 * names. @kubernetes/client-node is ESM-only, so the tests load it with import(), which jest
 * supports under node's --experimental-vm-modules; `module: node16` keeps that import() as is.
 * @type {import('jest').Config}
 */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests/cluster"],
    testMatch: ["**/*.cluster.ts"],
    globalSetup: "<rootDir>/tests/cluster/globalSetup.ts",
    reporters: ["default", "<rootDir>/tools/summaryReporter.js"],
    transform: {
        "^.+\\.ts$": [
            "ts-jest",
            {
                diagnostics: false,
                tsconfig: {
                    module: "node16",
                    moduleResolution: "node16",
                    target: "ES2022",
                    esModuleInterop: true,
                    isolatedModules: true,
                },
            },
        ],
    },
};
