// Runs before every suite. The program's warnings and notes (pulumi.log.warn, .info) are what
// `pulumi preview` prints; under test they are collected, for the tests that assert them
// (harness.ts), and not printed, so a passing run prints only its results.
import * as pulumi from "@pulumi/pulumi";

jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
