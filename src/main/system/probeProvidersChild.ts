// Runs the execution-provider probe in its own process: a GPU driver that crashes or hangs, or
// native libraries that print to stderr, must not touch the app. Prints the report as JSON.
import { probeExecutionProviders } from './executionProviders.ts';

const reports = await probeExecutionProviders();
process.stdout.write(`${JSON.stringify(reports)}\n`);
