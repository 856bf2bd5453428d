/** What adding content needs (the UnixFS importer, add modes, file-system scanning), loaded on the first add. */
export { importer } from 'ipfs-unixfs-importer';
export { importerOptionsFor } from './addModes.ts';
export { importCandidates, scanPath } from './fsSource.ts';
