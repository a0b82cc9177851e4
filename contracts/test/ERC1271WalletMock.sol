// SPDX-License-Identifier: Apache-2.0
// zkdl (contracts/test/ERC1271WalletMock.sol) — test harness only, never deployed by deploy/.
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev A contract wallet that accepts signatures of one EOA key (ERC-1271), to test that the
/// registry accepts contract owners and verifiers.
contract ERC1271WalletMock is IERC1271 {
    address public immutable signer;

    constructor(address signer_) {
        signer = signer_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? this.isValidSignature.selector : bytes4(0);
    }

    /// @dev Lets the wallet send calls (e.g. registerModel, attest) as itself.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == signer, "ERC1271WalletMock: not signer");
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
