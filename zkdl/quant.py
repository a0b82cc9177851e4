"""Fixed-point encoding and scales: the one place for every scale and bit width of zkdl's training.

Every tensor of a training run is an integer; a real value x is stored as round(x * 2^k) for a
per-tensor scale 2^k. The scales are chosen so that the whole SGD step is exact integer arithmetic
that the proof can check with matrix products, bit decompositions and linear relations only.

Parameters (all public, part of the proven statement):

* ``R`` = ``frac_bits`` (default 16): activations A, gradients G_A and G_Z, inputs X and one-hot
  targets Y are at scale 2^R.
* ``e`` = ``lr_exp``: the learning rate is eta = 2^-e (default e = 10).
* ``range_bits`` (default 64): every entry of the range-checked tensors Z and G_A must fit this many
  bits in two's complement; the proof commits exactly that many bits per entry.

Scales (s = 2R + e is the rescale shift):

=========================  ==============  ==================================================
tensor                     scale           why
=========================  ==============  ==================================================
X, Y, A, G_Z, G_A'          2^R             activations and gradients
W                          2^(2R+e)        weights carry e extra bits ("master weights") ...
b (optional bias)          2^(R+e)         ... and so does the bias
Z = A_in W + 2^(2R) b      2^(3R+e)        product of 2^R and 2^(2R+e); bias lifted by 2^(2R)
G_A = G_Z W^T              2^(3R+e)        same product of scales
Z', G_A'                   2^R             Z and G_A rescaled by s = 2R+e bits
G_W = A_in^T G_Z           2^(2R)          eta * G_W at scale 2^(2R+e) is the integer G_W
g_b = sum_batch G_Z        2^R             eta * g_b at scale 2^(R+e) is the integer g_b
=========================  ==============  ==================================================

Step (L layers, layer l maps A_in [B, d_l] to Z [B, d_{l+1}]):

* Forward: Z = A_in W (+ 2^(2R) b broadcast over the batch). Round half up by s bits:
  Z = 2^s Z' + R_Z with Z' = floor((Z + 2^(s-1)) / 2^s) and R_Z in [-2^(s-1), 2^(s-1)).
  S = 1[Z >= 0] is read from the *unrescaled* Z (its two's-complement top bit), so one committed bit
  decomposition of Z gives Z', R_Z and S. Hidden layers: A_out = S * Z' (ReLU). Output layer: no
  ReLU, and the square loss 1/2 sum_batch |Z' - Y|^2 gives G_Z = Z' - Y (1/B is absorbed in eta).
* Backward, for l = L-1 .. 1: G_A = G_Z W^T is the gradient of layer l-1's output A_out (never
  computed for the data, l = 0). It is rescaled like Z: G_A = 2^s G_A' + R_GA, and layer l-1's
  G_Z = S * G_A' with the S of layer l-1's Z: the same sign bit serves forward and backward.
* Update: G_W = A_in^T G_Z and W <- W - G_W, b <- b - g_b, exactly: eta = 2^-e moves G_W from scale
  2^(2R) to the weight scale 2^(2R+e) without any rounding, so no weight-sized tensor ever needs a
  remainder or a range proof. (The fixed-point analogue of master weights in mixed precision.)

Worked example (R = 2, e = 1, so s = 2R + e = 5; real numbers in brackets):

* a = 6 [6/2^2 = 1.5], w = 40 [40/2^5 = 1.25]: z = a w = 240 [240/2^7 = 1.875].
* Z' = floor((240 + 16) / 32) = 8 [8/2^2 = 2.0; 1.875 rounds half up to 2.0], R_Z = 240 - 256 = -16,
  which is inside [-16, 16). S = 1, A_out = 8.
* Had z been -240: Z' = floor(-224 / 32) = -7, R_Z = -240 + 224 = -16, S = 0, A_out = 0.
* Output layer with Z' = 8 and target y = 4 [1.0]: G_Z = 4 [1.0 = 2.0 - 1.0].
* Gradient of the weight: G_W = a G_Z = 24 [24/2^4 = 1.5 = 1.5 * 1.0]. With eta = 1/2 the real step
  is 0.75 = 24/2^5: the integer 24 at the weight scale 2^5, so w <- 40 - 24 = 16 [0.5] exactly.

Bit widths: with R = 16, e = 10 (s = 42) the digits MLP has |Z| and |G_A| up to a few units in real
terms, i.e. about 60 bits at scale 2^58; ``range_bits`` = 64 leaves a margin of a few bits. Integer
products are computed by the exact 128-bit-accumulating kernel, never in float or wrapping int64,
and every result is checked against ``range_bits``; a violation is an error, never a clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkdl.errors import SpecError

INT64_BITS = 64


@dataclass(frozen=True)
class QuantParams:
    """The public fixed-point parameters of a training run (see the module docstring)."""

    frac_bits: int = 16
    lr_exp: int = 10
    range_bits: int = 64

    def __post_init__(self) -> None:
        if self.frac_bits < 1:
            raise SpecError(f"frac_bits must be at least 1, got {self.frac_bits}")
        if self.lr_exp < 0:
            raise SpecError(f"lr_exp must be non-negative (eta = 2^-lr_exp), got {self.lr_exp}")
        if not self.shift + 2 <= self.range_bits <= INT64_BITS:
            raise SpecError(
                f"range_bits must lie in [{self.shift + 2}, {INT64_BITS}] so that Z and G_A, at "
                f"scale 2^{self.product_exp}, keep a sign bit and a value bit above the rescale "
                f"shift s = 2R+e = {self.shift}; got {self.range_bits}"
            )

    @property
    def shift(self) -> int:
        """s = 2R + e: the rescale shift from the product scale 2^(3R+e) back to 2^R."""
        return 2 * self.frac_bits + self.lr_exp

    @property
    def act_exp(self) -> int:
        """Exponent of the scale of X, Y, A, G_Z, G_A' (2^R)."""
        return self.frac_bits

    @property
    def weight_exp(self) -> int:
        """Exponent of the weight scale 2^(2R+e)."""
        return 2 * self.frac_bits + self.lr_exp

    @property
    def bias_exp(self) -> int:
        """Exponent of the bias scale 2^(R+e); the bias enters Z multiplied by 2^(2R)."""
        return self.frac_bits + self.lr_exp

    @property
    def bias_lift(self) -> int:
        """The factor 2^(2R) that lifts a bias from scale 2^(R+e) to Z's scale 2^(3R+e)."""
        return 1 << (2 * self.frac_bits)

    @property
    def product_exp(self) -> int:
        """Exponent of the scale of Z and G_A (2^(3R+e))."""
        return 3 * self.frac_bits + self.lr_exp

    @property
    def learning_rate(self) -> float:
        """eta = 2^-e as a float (for the float reference trainer and for display)."""
        return 2.0**-self.lr_exp

    def to_dict(self) -> dict[str, int]:
        """The canonical JSON form (also the spec-file form)."""
        return {"frac_bits": self.frac_bits, "lr_exp": self.lr_exp, "range_bits": self.range_bits}


def quantize(x: np.ndarray, exp: int) -> np.ndarray:
    """round(x * 2^exp) as int64 (ties to even; used for initial weights and float inputs only).

    Multiplying a float64 by a power of two is exact, so the only rounding is the final one. Values
    that do not fit int64 are rejected instead of wrapping.
    """
    scaled = np.rint(np.asarray(x, dtype=np.float64) * np.ldexp(1.0, exp))
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= 2.0**63):
        raise SpecError(f"values do not fit int64 at scale 2^{exp} (or are not finite)")
    return scaled.astype(np.int64)


def dequantize(x: np.ndarray, exp: int) -> np.ndarray:
    """x / 2^exp as float64 (exact while |x| < 2^53)."""
    return np.ldexp(np.asarray(x, dtype=np.float64), -exp)


def rescale(z: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Round half up by ``shift`` bits: returns (Z', R_Z) with z = 2^shift Z' + R_Z.

    Z' = floor((z + 2^(shift-1)) / 2^shift) and R_Z in [-2^(shift-1), 2^(shift-1)). Computed as
    (z >> shift) + bit_(shift-1)(z) and R_Z = low ``shift`` bits read as a signed number, which never
    overflows int64 even for z next to the int64 bounds (z + 2^(shift-1) could).
    """
    z = np.asarray(z, dtype=np.int64)
    half_bit = (z >> (shift - 1)) & 1
    z_q = (z >> shift) + half_bit
    r = (z & ((1 << shift) - 1)) - (half_bit << shift)
    return z_q, r


def sign_bits(z: np.ndarray) -> np.ndarray:
    """S = 1[z >= 0] as int64 (1 minus the two's-complement top bit of z)."""
    return (np.asarray(z) >= 0).astype(np.int64)


def bit_width(x: np.ndarray) -> int:
    """The smallest w with -2^(w-1) <= v < 2^(w-1) for every entry v (1 for an empty or zero array).

    A non-negative v needs v.bit_length() + 1 bits, a negative one (~v).bit_length() + 1; ~v = -v-1
    never overflows.
    """
    x = np.asarray(x, dtype=np.int64)
    if x.size == 0:
        return 1
    magnitude = int(np.max(np.where(x < 0, ~x, x)))
    return magnitude.bit_length() + 1


def checked_sub(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """a - b in int64, or None if any entry wrapped (both operands int64).

    Overflow happened exactly where a and b have different signs and the result's sign differs
    from a's.
    """
    out = a - b
    wrapped = ((a ^ b) & (a ^ out)) < 0
    return None if bool(np.any(wrapped)) else out
