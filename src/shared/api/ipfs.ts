import { z } from 'zod';
import { request } from './contract.ts';

/**
 * The embedded IPFS node (Helia in the main process). It is offline by default: content is added,
 * read, pinned and exported from the local repository; `ipfs.setOnline` starts libp2p networking
 * (TCP + noise + yamux, bitswap, optionally the public IPFS network) for this run of the app.
 */

/** A CID, a CID with a path inside it (`bafy…/train.bin`), `/ipfs/…` or `ipfs://…`. */
export const ipfsPathSchema = z.string().trim().min(1).max(4096);
/** A local file-system path; relative paths are resolved against the main process's working directory. */
const localPathSchema = z.string().min(1).max(4096);
export const multiaddrSchema = z
  .string()
  .trim()
  .min(2)
  .max(1024)
  .regex(/^\//, 'a multiaddr starts with "/", e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…');
/** How long a network fetch may wait without receiving a block before it fails. */
const timeoutMsSchema = z.number().int().min(100).max(3_600_000).default(60_000);

export const ipfsRepoStatSchema = z.object({
  path: z.string(),
  blocks: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  pins: z.number().int().nonnegative(),
});
export type IpfsRepoStat = z.infer<typeof ipfsRepoStatSchema>;

export const ipfsStatusSchema = z.object({
  peerId: z.string(),
  online: z.boolean(),
  /** Only meaningful when online: whether bootstrap + the public DHT are used, or only direct peers. */
  publicNetwork: z.boolean(),
  listenAddresses: z.array(z.string()),
  connectedPeers: z.number().int().nonnegative(),
  repo: ipfsRepoStatSchema,
});
export type IpfsStatus = z.infer<typeof ipfsStatusSchema>;

export const ipfsSkippedSchema = z.object({ path: z.string(), reason: z.string() });

export const ipfsAddResultSchema = z.object({
  cid: z.string(),
  /** True when added in the Kubo-compatible mode (CIDv0, `ipfs add` defaults). */
  kubo: z.boolean(),
  pinned: z.boolean(),
  bytes: z.number().nonnegative(),
  files: z.number().int().nonnegative(),
  directories: z.number().int().nonnegative(),
  /** Entries not added (hidden files, symlinks, sockets…), at most 100 listed; see skippedCount. */
  skipped: z.array(ipfsSkippedSchema),
  skippedCount: z.number().int().nonnegative(),
});
export type IpfsAddResult = z.infer<typeof ipfsAddResultSchema>;

export const ipfsGetResultSchema = z.object({
  cid: z.string(),
  path: z.string(),
  bytes: z.number().nonnegative(),
  files: z.number().int().nonnegative(),
  directories: z.number().int().nonnegative(),
  skipped: z.array(ipfsSkippedSchema),
  skippedCount: z.number().int().nonnegative(),
});
export type IpfsGetResult = z.infer<typeof ipfsGetResultSchema>;

export const ipfsPinSchema = z.object({
  cid: z.string(),
  /** Recursive pins keep the whole DAG; a direct pin keeps one block. */
  recursive: z.boolean(),
  /** Link depth kept, when the pin is neither direct nor recursive. */
  depth: z.number().int().nonnegative().nullable(),
});
export type IpfsPin = z.infer<typeof ipfsPinSchema>;

export const ipfsPeerSchema = z.object({
  peerId: z.string(),
  address: z.string(),
  direction: z.enum(['inbound', 'outbound']),
});
export type IpfsPeer = z.infer<typeof ipfsPeerSchema>;

/** A network fetch in progress (or recently ended): what is being fetched, and from whom. */
export const ipfsFetchSchema = z.object({
  cid: z.string(),
  action: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** Blocks received over bitswap so far. */
  blocks: z.number().int().nonnegative(),
  /** Who sent them: peer id and blocks received from it. */
  peers: z.array(z.object({ peerId: z.string(), blocks: z.number().int().nonnegative() })),
  error: z.string().nullable(),
});
export type IpfsFetch = z.infer<typeof ipfsFetchSchema>;

export const ipfsNetworkParamsSchema = {
  /** Addresses to listen on, e.g. /ip4/0.0.0.0/tcp/4001. Default: /ip4/0.0.0.0/tcp/0 (a free port). */
  listen: z.array(multiaddrSchema).min(1).max(16).optional(),
  /** Join the public IPFS network (bootstrap peers + the Amino DHT). Default true; false = only peers you connect to. */
  publicNetwork: z.boolean().optional(),
  /** Find and connect to peers on the local network by multicast DNS. Default false. */
  localDiscovery: z.boolean().optional(),
};

export const ipfsRequests = {
  'ipfs.status': request({
    description: 'Peer id, online/offline, listen addresses, connected peers and repository size.',
    params: z.strictObject({}),
    result: ipfsStatusSchema,
  }),
  'ipfs.setOnline': request({
    description:
      'Turns IPFS networking on (libp2p over TCP, bitswap, optionally the public network) or off. The peer id stays the same.',
    params: z.strictObject({ online: z.boolean(), ...ipfsNetworkParamsSchema }),
    result: ipfsStatusSchema,
  }),
  'ipfs.add': request({
    description:
      'Adds a file or a directory (UnixFS) to the local repository as a job and returns its root CID. ' +
      'kubo: the CIDs `ipfs add` gives (CIDv0, 256 KiB chunks); default: CIDv1 with raw leaves and 1 MiB chunks.',
    params: z.strictObject({
      path: localPathSchema,
      kubo: z.boolean().default(false),
      pin: z.boolean().default(false),
      /** Include files and folders whose name starts with "." (Kubo leaves them out unless --hidden). */
      hidden: z.boolean().default(false),
    }),
    result: ipfsAddResultSchema,
  }),
  'ipfs.cat': request({
    description:
      'Reads (the start of) a file by CID, verified block by block; small content comes back as text or base64.',
    params: z.strictObject({
      cid: ipfsPathSchema,
      offset: z.number().int().nonnegative().default(0),
      maxBytes: z
        .number()
        .int()
        .min(1)
        .max(16 * 1024 * 1024)
        .default(1024 * 1024),
      encoding: z.enum(['auto', 'utf8', 'base64']).default('auto'),
      timeoutMs: timeoutMsSchema,
    }),
    result: z.object({
      cid: z.string(),
      /** Size of the whole file. */
      size: z.number().nonnegative(),
      offset: z.number().nonnegative(),
      /** Bytes returned in content. */
      bytes: z.number().nonnegative(),
      truncated: z.boolean(),
      encoding: z.enum(['utf8', 'base64']),
      content: z.string(),
    }),
  }),
  'ipfs.get': request({
    description: 'Writes a file or directory by CID to a local path (which must not exist yet), as a job.',
    params: z.strictObject({ cid: ipfsPathSchema, path: localPathSchema, timeoutMs: timeoutMsSchema }),
    result: ipfsGetResultSchema,
  }),
  'ipfs.pin': request({
    description:
      'Pins a DAG recursively (fetching missing blocks when online), so garbage collection keeps it. A job.',
    params: z.strictObject({ cid: ipfsPathSchema, timeoutMs: timeoutMsSchema }),
    result: z.object({ cid: z.string(), alreadyPinned: z.boolean() }),
  }),
  'ipfs.unpin': request({
    description: 'Removes a pin; the blocks stay until the next garbage collection.',
    params: z.strictObject({ cid: ipfsPathSchema }),
    result: z.object({ cid: z.string(), unpinned: z.boolean() }),
  }),
  'ipfs.pins': request({
    description: 'Every pin in the local repository.',
    params: z.strictObject({}),
    result: z.array(ipfsPinSchema),
  }),
  'ipfs.gc': request({
    description: 'Deletes every block that no pin keeps and reports what was freed.',
    params: z.strictObject({}),
    result: z.object({
      removedBlocks: z.number().int().nonnegative(),
      freedBytes: z.number(),
      repo: ipfsRepoStatSchema,
    }),
  }),
  'ipfs.exportCar': request({
    description:
      'Writes the whole DAG under a CID to a CAR file (for pinning services and sneakernet), as a job.',
    params: z.strictObject({ cid: ipfsPathSchema, path: localPathSchema, timeoutMs: timeoutMsSchema }),
    result: z.object({
      cid: z.string(),
      path: z.string(),
      blocks: z.number().int().nonnegative(),
      bytes: z.number().nonnegative(),
    }),
  }),
  'ipfs.importCar': request({
    description:
      'Imports every block of a CAR file (each verified against its CID) and pins its roots, as a job.',
    params: z.strictObject({ path: localPathSchema, pin: z.boolean().default(true) }),
    result: z.object({
      roots: z.array(z.string()),
      blocks: z.number().int().nonnegative(),
      bytes: z.number().nonnegative(),
      pinned: z.array(z.string()),
    }),
  }),
  'ipfs.peers': request({
    description: 'Peers connected now (empty while offline).',
    params: z.strictObject({}),
    result: z.array(ipfsPeerSchema),
  }),
  'ipfs.fetches': request({
    description:
      'Network fetches in progress and the last ones that ended: the CID, blocks received over bitswap and the peers they came from.',
    params: z.strictObject({}),
    result: z.array(ipfsFetchSchema),
  }),
  'ipfs.connect': request({
    description: 'Connects to a peer by multiaddr (networking must be on).',
    params: z.strictObject({ address: multiaddrSchema }),
    result: ipfsPeerSchema,
  }),
};
