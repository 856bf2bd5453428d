import { ContractFunctionExecutionError, ContractFunctionZeroDataError } from 'viem';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.ts';
import { toChainApiError } from './chainErrors.ts';

describe('toChainApiError', () => {
  it('a call to an address without a contract is FAILED_PRECONDITION with what to do (found by the API fuzz)', () => {
    const cause = new ContractFunctionZeroDataError({ functionName: 'getRequest' });
    const e = new ContractFunctionExecutionError(cause, { abi: [], functionName: 'getRequest' });
    const mapped = toChainApiError(e, 'getRequest');
    expect(mapped).toBeInstanceOf(ApiError);
    expect(mapped).toMatchObject({
      code: 'FAILED_PRECONDITION',
      hint: expect.stringMatching(/deploy/i) as unknown,
    });
  });
});
