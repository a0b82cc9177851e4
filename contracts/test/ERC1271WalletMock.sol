// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/test/ERC1271WalletMock.sol) — test harness only, never deployed by deploy/.
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title ERC1271WalletMock
 * @notice A contract wallet that accepts signatures of one EOA key (ERC-1271), to test that the
 * registry accepts contract owners and verifiers.
 */
contract ERC1271WalletMock is IERC1271 {
    /// @notice The EOA whose signatures the wallet accepts and who may send calls through it.
    address public immutable SIGNER;

    /// @dev Only the signer may send calls through the wallet.
    error ERC1271WalletMockNotSigner(address caller);

    /**
     * @notice A wallet of one key.
     * @param signer_ The EOA whose signatures the wallet accepts.
     */
    constructor(address signer_) {
        SIGNER = signer_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == SIGNER ? this.isValidSignature.selector : bytes4(0);
    }

    /**
     * @notice Sends a call as the wallet (e.g. registerModel, attest); a revert is passed on unchanged.
     * @param target The contract to call.
     * @param data The calldata.
     * @return The call's return data.
     */
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != SIGNER) revert ERC1271WalletMockNotSigner(msg.sender);
        /* solhint-disable-next-line avoid-low-level-calls */ // forwarding any call is what a wallet does
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            /* solhint-disable-next-line no-inline-assembly */ // re-raise the callee's revert data as is
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
