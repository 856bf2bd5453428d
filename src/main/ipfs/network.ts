/**
 * IPFS networking: libp2p (TCP + noise + yamux + identify, bootstrap + Kademlia DHT) and bitswap,
 * attached to a Helia core node. Only ever loaded with a dynamic import when the user turns
 * networking on: the offline node must not pay for (or even load) any of this.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { withBitswap } from '@helia/bitswap';
import type { Helia, Peer, Provider, Router } from '@helia/interface';
import { bootstrap } from '@libp2p/bootstrap';
import { identify, identifyPush } from '@libp2p/identify';
import type { AbortOptions, Libp2p, PeerId, PrivateKey } from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { kadDHT, removePrivateAddressesMapper, removePublicAddressesMapper } from '@libp2p/kad-dht';
import { peerIdFromCID } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { CID } from 'multiformats/cid';

/** Kubo's default bootstrap peers (kubo config/bootstrap_peers.go); dialled only with publicNetwork. */
export const PUBLIC_BOOTSTRAP_PEERS = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
  '/dnsaddr/va1.bootstrap.libp2p.io/p2p/12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8',
  '/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ',
];

export interface NetworkConfig {
  /** Multiaddrs to listen on. */
  listen: string[];
  /**
   * true: bootstrap into the public IPFS network and use the public (Amino) DHT, which keeps only
   * public addresses. false: no bootstrap; a LAN DHT (/ipfs/lan/kad/1.0.0) that keeps private and
   * loopback addresses; peers are whoever you connect to (what the tests use, on 127.0.0.1).
   */
  publicNetwork: boolean;
  /** Bootstrap list used when publicNetwork is on. */
  bootstrap: string[];
  /**
   * Find peers on the local network by multicast DNS (@libp2p/mdns) and connect to them: two machines on
   * one LAN (a trainer and a verifier) find each other without typing an address. Off unless asked.
   */
  localDiscovery?: boolean;
}

/** Helia's content/peer routing over libp2p's DHT (the same adapter @helia/libp2p provides). */
class Libp2pRouter implements Router {
  readonly name = 'libp2p-router';
  readonly #libp2p: Libp2p;

  constructor(libp2p: Libp2p) {
    this.#libp2p = libp2p;
  }

  async provide(cid: CID, options?: AbortOptions): Promise<void> {
    await this.#libp2p.contentRouting.provide(cid, options);
  }

  async cancelReprovide(key: CID, options?: AbortOptions): Promise<void> {
    await this.#libp2p.contentRouting.cancelReprovide(key, options);
  }

  async *findProviders(cid: CID, options?: AbortOptions): AsyncIterable<Provider> {
    for await (const info of this.#libp2p.contentRouting.findProviders(cid, options)) {
      yield {
        id: info.id.toCID(),
        multiaddrs: info.multiaddrs,
        router: this.name,
        fallback: false,
      } as Provider;
    }
  }

  async findPeer(peer: CID, options?: AbortOptions): Promise<Peer> {
    const info = await this.#libp2p.peerRouting.findPeer(peerIdFromCID(peer), options);
    return { id: info.id.toCID(), multiaddrs: info.multiaddrs, router: this.name } as Peer;
  }

  async *getClosestPeers(key: Uint8Array, options?: AbortOptions): AsyncIterable<Peer> {
    for await (const info of this.#libp2p.peerRouting.getClosestPeers(key, options)) {
      yield { id: info.id.toCID(), multiaddrs: info.multiaddrs, router: this.name } as Peer;
    }
  }
}

export interface Networking {
  /** The running libp2p node (after Helia started). */
  libp2p(): Libp2p | undefined;
}

/**
 * Adds libp2p and bitswap to a Helia node that has not started yet, as mixins: libp2p starts (and
 * listens) during helia.start(), before bitswap registers its protocol on it; helia.stop() stops both.
 */
export function attachNetworking(helia: Helia, privateKey: PrivateKey, config: NetworkConfig): Networking {
  let node: Libp2p | undefined;
  helia.addMixin({
    name: 'xai-link-libp2p',
    start: async (h: Helia) => {
      node = await createLibp2p({
        privateKey,
        // No datastore: libp2p keeps its peer store and DHT records in memory, like Kubo's peerstore.
        // (On the repository's datastore it went on writing peer records after stop().)
        nodeInfo: {
          name: h.info.name,
          version: h.info.version,
          userAgent: `${h.info.name}/${h.info.version}`,
        },
        addresses: { listen: config.listen },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        peerDiscovery: [
          ...(config.publicNetwork && config.bootstrap.length > 0
            ? [bootstrap({ list: config.bootstrap })]
            : []),
          ...(config.localDiscovery ? [mdns()] : []),
        ],
        services: {
          identify: identify(),
          identifyPush: identifyPush(),
          ping: ping(),
          dht: config.publicNetwork
            ? kadDHT({ protocol: '/ipfs/kad/1.0.0', peerInfoMapper: removePrivateAddressesMapper })
            : kadDHT({
                protocol: '/ipfs/lan/kad/1.0.0',
                peerInfoMapper: removePublicAddressesMapper,
                clientMode: false,
              }),
        },
      });
      if (config.localDiscovery) {
        // libp2p only records discovered peers; a peer found on the LAN is dialled so bitswap can use it.
        node.addEventListener('peer:discovery', (evt) => {
          if (node?.getConnections(evt.detail.id).length === 0)
            void node.dial(evt.detail.id).catch(() => undefined);
        });
      }
      // Bitswap (its mixin runs next) finds libp2p here, as it does with @helia/libp2p.
      Object.defineProperty(h, 'libp2p', { value: node, configurable: true, enumerable: true });
      if (!h.hasRouter('libp2p-router')) h.addRouter(new Libp2pRouter(node));
    },
    stop: async () => {
      await node?.stop();
    },
  });
  withBitswap(helia as Parameters<typeof withBitswap>[0]);
  return { libp2p: () => node };
}

export async function dialAddress(
  libp2p: Libp2p,
  address: string,
  signal?: AbortSignal,
): Promise<{ peerId: PeerId; address: string; direction: 'inbound' | 'outbound' }> {
  const connection = await libp2p.dial(multiaddr(address), { signal });
  return {
    peerId: connection.remotePeer,
    address: connection.remoteAddr.toString(),
    direction: connection.direction,
  };
}

/** Throws a readable error for a string that is not a multiaddr. */
export function checkMultiaddr(address: string): void {
  multiaddr(address);
}
