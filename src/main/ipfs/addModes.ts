import type { ImporterOptions } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';

/**
 * How files become UnixFS DAGs. Every option is passed explicitly: @helia/unixfs fills in its own
 * defaults (CIDv1, raw leaves, 1 MiB chunks, 1024 links) *before* the importer looks at `profile`,
 * so `profile: 'unixfs-v0-2015'` through @helia/unixfs is silently ignored.
 */
export type AddMode = 'default' | 'kubo';

const KIB = 1024;

/**
 * Kubo-compatible: the "unixfs-v0-2015" profile of IPIP-499, which is what `ipfs add` does by default
 * (Kubo ≤ 0.39 and later without a profile): CIDv0, dag-pb leaves holding UnixFS "file" nodes
 * (no raw leaves), fixed 256 KiB chunks, balanced layout with at most 174 links per node, a file of one
 * chunk is that chunk's node, directories switch to HAMT shards above 256 KiB of links (name + CID).
 */
export function kuboImporterOptions(): ImporterOptions {
  return {
    cidVersion: 0,
    rawLeaves: false,
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 256 * KIB }),
    layout: balanced({ maxChildrenPerNode: 174 }),
    shardSplitThresholdBytes: 256 * KIB,
    shardSplitStrategy: 'links-bytes',
    shardFanoutBits: 8,
    fieldOrder: 'links-first',
    wrapWithDirectory: false,
  };
}

/**
 * The default: the "unixfs-v1-2025" profile of IPIP-499, which for files is exactly Helia's default
 * (CIDv1, raw leaves, fixed 1 MiB chunks, balanced layout with at most 1024 links); directories switch
 * to HAMT shards when their block would exceed 256 KiB. `ipfs add --profile=unixfs-v1-2025` gives the
 * same CIDs.
 */
export function defaultImporterOptions(): ImporterOptions {
  return {
    cidVersion: 1,
    rawLeaves: true,
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 1024 * KIB }),
    layout: balanced({ maxChildrenPerNode: 1024 }),
    shardSplitThresholdBytes: 256 * KIB,
    shardSplitStrategy: 'block-bytes',
    shardFanoutBits: 8,
    fieldOrder: 'links-first',
    wrapWithDirectory: false,
  };
}

export function importerOptionsFor(mode: AddMode): ImporterOptions {
  return mode === 'kubo' ? kuboImporterOptions() : defaultImporterOptions();
}
