/**
 * The contracts' ABIs for code outside src/main (the renderer's wagmi calls): generated at build time from
 * contracts/src (see contracts/scripts/build.ts), never copied by hand. Bytecode is not needed here.
 */
export { modelRegistryAbi } from '../../../contracts/generated/ModelRegistry.ts';
export { licenseMarketAbi } from '../../../contracts/generated/LicenseMarket.ts';
export { functionsAttestorAbi } from '../../../contracts/generated/FunctionsAttestor.ts';
