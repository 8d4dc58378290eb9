/**
 * The Job DSL tier (npm run test:jobdsl): the generated Job DSL scripts run under Groovy 2.4.21,
 * Jenkins' own, against stand-ins for the Jenkins objects they touch (tests/jobdsl/). Needs a JDK
 * and the Groovy jar (npm run groovy:fetch), so it is a tier of its own beside the unit suite.
 * @type {import('jest').Config}
 */
module.exports = { ...require("./jest.config.js"), testMatch: ["**/*.jobdsl.ts"] };
