// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/test/DelegateWithoutErc1271Mock.sol) — test harness only, never deployed by deploy/.
pragma solidity 0.8.30;

/**
 * @title DelegateWithoutErc1271Mock
 * @notice An EIP-7702 delegate that implements no ERC-1271 (like many batching delegates), to test that
 * the registry accepts the ECDSA signatures of an EOA delegated to it.
 */
contract DelegateWithoutErc1271Mock {
    /// @notice Counts calls, so the delegate has some code of its own.
    uint256 public calls;

    /// @notice Does nothing but count.
    function ping() external {
        ++calls;
    }
}
