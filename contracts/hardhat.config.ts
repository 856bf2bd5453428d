// Hardhat 3 runs the Solidity tests (unit + fuzz) in contracts/test/solidity with the solc that npm
// installed (WebAssembly build, no compiler download). The app's own build (ABIs and bytecode in
// contracts/generated) uses the same compiler and settings through contracts/scripts/compile.ts.
import { createRequire } from 'node:module';
import { defineConfig } from 'hardhat/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  solidity: {
    version: '0.8.37',
    path: require.resolve('solc/soljson.js'),
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun' },
  },
  // Hardhat resolves these from the project root (the folder of package.json), not from this file.
  paths: {
    sources: 'contracts/src',
    tests: { solidity: 'contracts/test/solidity' },
    artifacts: 'contracts/artifacts',
    cache: 'contracts/cache',
  },
  test: {
    solidity: {
      fuzz: { runs: 256, seed: '0x5eed' },
    },
  },
});
