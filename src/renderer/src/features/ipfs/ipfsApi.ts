import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

export const ipfsApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    ipfsStatus: build.query({
      queryFn: () => invokeQuery('ipfs.status', {}),
      providesTags: ['Ipfs'],
    }),
    ipfsPins: build.query({
      queryFn: () => invokeQuery('ipfs.pins', {}),
      providesTags: ['Pins'],
    }),
    ipfsPeers: build.query({
      queryFn: () => invokeQuery('ipfs.peers', {}),
      providesTags: ['Ipfs'],
    }),
    ipfsFetches: build.query({
      queryFn: () => invokeQuery('ipfs.fetches', {}),
      providesTags: ['Ipfs'],
    }),
    ipfsSetOnline: build.mutation({
      queryFn: (p: RequestParams<'ipfs.setOnline'>) => invokeQuery('ipfs.setOnline', p),
      invalidatesTags: ['Ipfs'],
    }),
    ipfsAdd: build.mutation({
      queryFn: (p: RequestParams<'ipfs.add'>) => invokeQuery('ipfs.add', p),
      invalidatesTags: ['Ipfs', 'Pins'],
    }),
    ipfsPin: build.mutation({
      queryFn: (p: RequestParams<'ipfs.pin'>) => invokeQuery('ipfs.pin', p),
      invalidatesTags: ['Ipfs', 'Pins'],
    }),
    ipfsUnpin: build.mutation({
      queryFn: (p: RequestParams<'ipfs.unpin'>) => invokeQuery('ipfs.unpin', p),
      invalidatesTags: ['Ipfs', 'Pins'],
    }),
    ipfsGc: build.mutation({
      queryFn: () => invokeQuery('ipfs.gc', {}),
      invalidatesTags: ['Ipfs', 'Pins'],
    }),
    ipfsExportCar: build.mutation({
      queryFn: (p: RequestParams<'ipfs.exportCar'>) => invokeQuery('ipfs.exportCar', p),
    }),
    ipfsImportCar: build.mutation({
      queryFn: (p: RequestParams<'ipfs.importCar'>) => invokeQuery('ipfs.importCar', p),
      invalidatesTags: ['Ipfs', 'Pins'],
    }),
    ipfsCat: build.mutation({
      queryFn: (p: RequestParams<'ipfs.cat'>) => invokeQuery('ipfs.cat', p),
    }),
    ipfsConnect: build.mutation({
      queryFn: (p: RequestParams<'ipfs.connect'>) => invokeQuery('ipfs.connect', p),
      invalidatesTags: ['Ipfs'],
    }),
  }),
});

export const {
  useIpfsStatusQuery,
  useIpfsPinsQuery,
  useIpfsPeersQuery,
  useIpfsFetchesQuery,
  useIpfsSetOnlineMutation,
  useIpfsAddMutation,
  useIpfsPinMutation,
  useIpfsUnpinMutation,
  useIpfsGcMutation,
  useIpfsExportCarMutation,
  useIpfsImportCarMutation,
  useIpfsCatMutation,
  useIpfsConnectMutation,
} = ipfsApi;
