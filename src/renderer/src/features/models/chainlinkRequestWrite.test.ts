import { decodeFunctionData, encodeFunctionData } from 'viem';
import { describe, expect, it } from 'vitest';
import type { ChainlinkRequestData } from '../../../../shared/api/chainlink.ts';
import { functionsAttestorAbi } from '../../../../shared/chain/abis.ts';
import { improvementFromJson } from '../../../../shared/chain/eip712.ts';
import { requestAttestationWrite } from './chainlinkRequestWrite.ts';

const data: ChainlinkRequestData = {
  chainId: 11155111,
  attestor: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  functionName: 'requestAttestation',
  improvement: {
    lineageId: '3',
    parentTokenId: '0',
    trainer: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    modelCid: 'bafkreimodel',
    metadataCid: 'bafkreimeta',
    evaluationCid: 'bafkreieval',
    score: '7000000',
    nonce: '0',
    deadline: '1790000000',
  },
  attestationCids: ['bafkreiatt1', 'bafkreiatt2'],
  attestationDigest: `0x${'ab'.repeat(32)}`,
  subscriptionId: '4242',
  donId: 'fun-ethereum-sepolia-1',
  callbackGasLimit: 300_000,
  openRequests: false,
  owner: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
};

describe('the wallet transaction asking for a Chainlink attestation', () => {
  it('is the attestor’s requestAttestation with the claim and the CIDs main gave', () => {
    const w = requestAttestationWrite(data);
    expect(w.address).toBe(data.attestor);
    const calldata = encodeFunctionData({ abi: w.abi, functionName: w.functionName, args: w.args });
    const decoded = decodeFunctionData({ abi: functionsAttestorAbi, data: calldata });
    expect(decoded.functionName).toBe('requestAttestation');
    expect(decoded.args).toEqual([improvementFromJson(data.improvement), data.attestationCids]);
  });

  it('says in plain words who checks what and who pays, before the user confirms', () => {
    const w = requestAttestationWrite(data);
    expect(w.summary).toContain('DON “fun-ethereum-sepolia-1”');
    expect(w.summary).toContain('the 2 verifier attestations');
    expect(w.summary).toContain('subscription 4242');
    expect(w.fields).toContainEqual({
      label: 'Contract',
      value: `FunctionsAttestor ${data.attestor}`,
      mono: true,
    });
    expect(w.fields).toContainEqual({
      label: 'Attestations checked',
      value: 'bafkreiatt1, bafkreiatt2',
      mono: true,
    });
  });
});
