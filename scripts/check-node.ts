// Fails early, with what to do, when the test command runs on a Node older than the project needs.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `XAI-Link needs Node.js >= 22.18 (found ${process.version}). Run "npm ci": it installs the pinned Node 22 that npm scripts use.`,
  );
  process.exit(1);
}
console.log(`node ${process.version}`);
