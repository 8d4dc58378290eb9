// Ends every jest run with one plain line, `N passed, N failed` (", N skipped" when any), which
// CI and people can read without knowing jest's own summary format.
class SummaryReporter {
    onRunComplete(_contexts, results) {
        const skipped = results.numPendingTests + results.numTodoTests;
        const line = `${results.numPassedTests} passed, ${results.numFailedTests + results.numRuntimeErrorTestSuites} failed`;
        process.stdout.write(`\n${line}${skipped > 0 ? `, ${skipped} skipped` : ""}\n`);
    }
}
module.exports = SummaryReporter;
