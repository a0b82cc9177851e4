//! The group G1 of BLS12-381: hash-to-curve, encodings, element-wise arithmetic and MSMs.
//!
//! Two encodings cross the boundary (see `docs/kernels.md`):
//! * internal, 96 bytes: arkworks' uncompressed affine form (ZCash flags). Only kernels produce
//!   it, so it is decoded *without* the on-curve and subgroup checks; a malformed flag or
//!   coordinate is still an error, never a panic.
//! * wire, 48 bytes: the compressed ZCash form, decoded with every check (`decompress`).
//!
//! All arithmetic is arkworks' (group law, GLV scalar multiplication, Pippenger MSM); this module
//! only arranges the data and the parallelism.

use crate::error::{KernelError, Result};
use crate::{Fr, G1Affine, G1Projective, PAR_MIN_LEN};
use ark_bls12_381::Fq;
use ark_ec::hashing::curve_maps::wb::WBMap;
use ark_ec::hashing::map_to_curve_hasher::MapToCurveBasedHasher;
use ark_ec::hashing::HashToCurve;
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{AdditiveGroup, CurveGroup, VariableBaseMSM};
use ark_ff::field_hashers::DefaultFieldHasher;
use ark_ff::{BigInt, BigInteger, One, PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rayon::prelude::*;

/// Bytes of the internal (uncompressed) encoding of a point.
pub const POINT_BYTES: usize = 96;
/// Bytes of the wire (compressed) encoding of a point.
pub const COMPRESSED_BYTES: usize = 48;

/// The RFC 9380 suite `BLS12381G1_XMD:SHA-256_SSWU_RO_`.
type G1Hasher = MapToCurveBasedHasher<G1Projective, DefaultFieldHasher<sha2::Sha256, 128>, WBMap<ark_bls12_381::g1::Config>>;

/// The scalar type arkworks' Pippenger takes.
type Repr = <Fr as PrimeField>::BigInt;

/// RFC 9380 hash-to-curve (random-oracle variant) of `message` under the domain tag `dst`.
pub fn hash_to_g1(dst: &[u8], message: &[u8]) -> Result<G1Affine> {
    // RFC 9380 §3.1: a DST MUST have nonzero length (arkworks would accept an empty one).
    if dst.is_empty() {
        return Err(KernelError::InvalidArgument("the hash-to-curve domain tag must not be empty".into()));
    }
    let hasher = G1Hasher::new(dst).map_err(|e| KernelError::InvalidArgument(format!("hash-to-curve: {e}")))?;
    hasher.hash(message).map_err(|e| KernelError::InvalidArgument(format!("hash-to-curve: {e}")))
}

/// `hash_to_g1(dst, m)` for every message, in parallel (generator derivation).
pub fn hash_to_g1_many(dst: &[u8], messages: &[Vec<u8>]) -> Result<Vec<G1Affine>> {
    messages.par_iter().map(|m| hash_to_g1(dst, m)).collect()
}

fn check_multiple(what: &'static str, len: usize, unit: usize) -> Result<usize> {
    if !len.is_multiple_of(unit) {
        return Err(KernelError::InvalidArgument(format!("{what}: {len} bytes is not a multiple of {unit}")));
    }
    Ok(len / unit)
}

/// Decodes internal 96-byte encodings without curve or subgroup checks (kernels made them).
pub fn decode(bytes: &[u8]) -> Result<Vec<G1Affine>> {
    check_multiple("points", bytes.len(), POINT_BYTES)?;
    bytes
        .par_chunks_exact(POINT_BYTES)
        .with_min_len(PAR_MIN_LEN)
        .enumerate()
        .map(|(index, chunk)| {
            G1Affine::deserialize_uncompressed_unchecked(chunk).map_err(|_| KernelError::InvalidPoint {
                index,
                reason: "malformed internal encoding (flags or a coordinate not below p)".into(),
            })
        })
        .collect()
}

/// Decodes one internal encoding.
pub fn decode_one(bytes: &[u8]) -> Result<G1Affine> {
    if bytes.len() != POINT_BYTES {
        return Err(KernelError::LengthMismatch { what: "point encoding", got: bytes.len(), expected: POINT_BYTES });
    }
    Ok(decode(bytes)?[0])
}

fn encode_with(points: &[G1Affine], width: usize, write: impl Fn(&G1Affine, &mut [u8]) + Sync) -> Vec<u8> {
    let mut out = vec![0u8; points.len() * width];
    out.par_chunks_exact_mut(width).with_min_len(PAR_MIN_LEN).zip(points).for_each(|(chunk, p)| write(p, chunk));
    out
}

/// Internal 96-byte encodings, concatenated.
pub fn encode(points: &[G1Affine]) -> Vec<u8> {
    // Writing into a slice of exactly the serialised size cannot fail.
    encode_with(points, POINT_BYTES, |p, out| p.serialize_uncompressed(out).expect("96-byte buffer"))
}

/// Wire (compressed, 48-byte) encodings, concatenated.
pub fn compress(points: &[G1Affine]) -> Vec<u8> {
    encode_with(points, COMPRESSED_BYTES, |p, out| p.serialize_compressed(out).expect("48-byte buffer"))
}

/// Decodes wire encodings with every check: flags, x < p, on the curve, in the r-order subgroup.
pub fn decompress(bytes: &[u8]) -> Result<Vec<G1Affine>> {
    check_multiple("compressed points", bytes.len(), COMPRESSED_BYTES)?;
    bytes
        .par_chunks_exact(COMPRESSED_BYTES)
        .with_min_len(PAR_MIN_LEN / 8)
        .enumerate()
        .map(|(index, chunk)| {
            // `Validate::Yes`: arkworks recovers y from x (so the point is on the curve) and runs the
            // endomorphism subgroup check.
            G1Affine::deserialize_compressed(chunk)
                .map_err(|_| KernelError::InvalidPoint { index, reason: why_not_canonical(chunk).into() })
        })
        .collect()
}

/// Why arkworks refused a compressed encoding: recomputed only on failure, for the message.
fn why_not_canonical(bytes: &[u8]) -> &'static str {
    let (compressed, infinity, largest) = (bytes[0] & 0x80 != 0, bytes[0] & 0x40 != 0, bytes[0] & 0x20 != 0);
    let mut x_bytes = [0u8; COMPRESSED_BYTES];
    x_bytes.copy_from_slice(bytes);
    x_bytes[0] &= 0x1f;
    if !compressed {
        return "compression flag (bit 7 of byte 0) not set";
    }
    if infinity {
        return if largest { "identity with the sign flag set" } else { "identity encoding with a non-zero x" };
    }
    let Some(x) = Fq::from_bigint(be_to_bigint(&x_bytes)) else {
        return "x coordinate not below p";
    };
    if G1Affine::get_point_from_x_unchecked(x, largest).is_none() {
        return "x is not the abscissa of a curve point";
    }
    "point is not in the prime-order subgroup"
}

fn be_to_bigint(bytes: &[u8; COMPRESSED_BYTES]) -> BigInt<6> {
    let mut limbs = [0u64; 6];
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        limbs[5 - i] = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    BigInt(limbs)
}

fn zip_map(a: &[G1Affine], b: &[G1Affine], op: impl Fn(&G1Affine, &G1Affine) -> G1Projective + Sync) -> Result<Vec<G1Affine>> {
    if a.len() != b.len() {
        return Err(KernelError::LengthMismatch { what: "second operand", got: b.len(), expected: a.len() });
    }
    let out: Vec<G1Projective> = a.par_iter().with_min_len(PAR_MIN_LEN).zip(b).map(|(x, y)| op(x, y)).collect();
    // One shared inversion for the whole batch instead of one per point.
    Ok(G1Projective::normalize_batch(&out))
}

pub fn add(a: &[G1Affine], b: &[G1Affine]) -> Result<Vec<G1Affine>> {
    zip_map(a, b, |x, y| *x + y)
}

pub fn sub(a: &[G1Affine], b: &[G1Affine]) -> Result<Vec<G1Affine>> {
    zip_map(a, b, |x, y| G1Projective::from(*x) - y)
}

pub fn neg(a: &[G1Affine]) -> Vec<G1Affine> {
    a.par_iter().with_min_len(PAR_MIN_LEN).map(|x| -*x).collect()
}

/// Every point times the same scalar.
pub fn scale(points: &[G1Affine], s: Fr) -> Vec<G1Affine> {
    G1Projective::normalize_batch(&mul_all(points, s))
}

/// wNAF width of `mul_all`: digits ±1, ±3, …, ±15, a table of 8 odd multiples per point. Against a
/// 128-bit GLV half, width 5 needs ~21 additions where width 4 needs ~26 and width 6 ~18 plus a
/// table twice as large.
const WNAF_WIDTH: usize = 5;
/// Points whose tables `mul_all` normalises with one shared inversion (per rayon task).
const MUL_CHUNK: usize = 256;

/// The signed wNAF digits (least significant first) of a GLV half with its sign applied.
fn signed_wnaf((positive, k): (bool, Fr)) -> Vec<i64> {
    let digits = k.into_bigint().find_wnaf(WNAF_WIDTH).expect("width in 2..64");
    if positive {
        digits
    } else {
        digits.into_iter().map(|d| -d).collect()
    }
}

/// Adds `digit`·T to `acc` where table[i] = (2i + 1)·T (digit odd or zero).
fn add_digit(acc: &mut G1Projective, table: &[G1Affine], digit: i64) {
    if digit > 0 {
        *acc += table[(digit as usize - 1) / 2];
    } else if digit < 0 {
        *acc += -table[((-digit) as usize - 1) / 2];
    }
}

/// s·P for every point with one scalar, composed from arkworks' own pieces (its GLV decomposition,
/// wNAF recoding, endomorphism, group law and batch normalisation): the split s = k1 + λ·k2 and the
/// digits are computed once for all points; each point gets a table of its odd multiples
/// P, 3P, …, 15P, made affine with one inversion per chunk of points, and φ(T) serves the k2 half.
/// About 128 doublings and 43 mixed additions per point, against 255 doublings and 128 additions
/// of arkworks' per-point multiplication. Points must lie in G1 (the r-order subgroup, where φ acts
/// as λ): every point the kernels produce or decompress does.
pub fn mul_all(points: &[G1Affine], s: Fr) -> Vec<G1Projective> {
    let (half1, half2) = <ark_bls12_381::g1::Config as GLVConfig>::scalar_decomposition(s);
    let (d1, d2) = (signed_wnaf(half1), signed_wnaf(half2));
    let len = d1.len().max(d2.len());
    let table_len = 1usize << (WNAF_WIDTH - 2);
    points
        .par_chunks(MUL_CHUNK)
        .flat_map_iter(|chunk| {
            let projective: Vec<G1Projective> = chunk
                .iter()
                .flat_map(|p| {
                    let double = G1Projective::from(*p).double();
                    std::iter::successors(Some(G1Projective::from(*p)), move |t| Some(*t + double)).take(table_len)
                })
                .collect();
            let tables = G1Projective::normalize_batch(&projective);
            let out: Vec<G1Projective> = tables
                .chunks_exact(table_len)
                .map(|table| {
                    let endo: Vec<G1Affine> = table.iter().map(<ark_bls12_381::g1::Config as GLVConfig>::endomorphism_affine).collect();
                    let mut acc = G1Projective::zero();
                    for i in (0..len).rev() {
                        acc.double_in_place();
                        add_digit(&mut acc, table, d1.get(i).copied().unwrap_or(0));
                        add_digit(&mut acc, &endo, d2.get(i).copied().unwrap_or(0));
                    }
                    acc
                })
                .collect();
            out
        })
        .collect()
}

/// Point i times scalar i.
pub fn scale_each(points: &[G1Affine], scalars: &[Fr]) -> Result<Vec<G1Affine>> {
    if points.len() != scalars.len() {
        return Err(KernelError::LengthMismatch { what: "scalars", got: scalars.len(), expected: points.len() });
    }
    let out: Vec<G1Projective> = points.par_iter().zip(scalars).map(|(p, s)| *p * s).collect();
    Ok(G1Projective::normalize_batch(&out))
}

/// The fold of a point vector: out[j] = w_lo·P[j] + w_hi·P[j + n/2] (n even), normalised with one
/// shared inversion. A weight of one costs no scalar multiplication (the inner-product argument's
/// generator fold, with its common factor kept aside, is P_lo + c²·P_hi).
pub fn fold(points: &[G1Affine], w_lo: Fr, w_hi: Fr) -> Result<Vec<G1Affine>> {
    if !points.len().is_multiple_of(2) {
        return Err(KernelError::InvalidArgument(format!("{} points do not split into two halves", points.len())));
    }
    let (lo, hi) = points.split_at(points.len() / 2);
    let times = |half: &[G1Affine], w: Fr| if w.is_one() { half.iter().map(|&p| p.into()).collect() } else { mul_all(half, w) };
    let (mut out, hi) = (times(lo, w_lo), times(hi, w_hi));
    out.par_iter_mut().zip(hi).for_each(|(a, b)| *a += b);
    Ok(G1Projective::normalize_batch(&out))
}

pub fn identity() -> G1Affine {
    G1Affine::identity()
}

/// Σ points: mixed (projective + affine) additions in parallel chunks.
pub fn sum(points: &[G1Affine]) -> G1Affine {
    points.par_iter().with_min_len(PAR_MIN_LEN / 4).fold(G1Projective::zero, |acc, p| acc + p).sum::<G1Projective>().into_affine()
}

fn check_msm_lengths(points: usize, scalars: usize) -> Result<()> {
    if points != scalars {
        return Err(KernelError::LengthMismatch { what: "scalars", got: scalars, expected: points });
    }
    Ok(())
}

/// Σ s_i·P_i with arkworks' parallel Pippenger.
pub fn msm(points: &[G1Affine], scalars: &[Fr]) -> Result<G1Affine> {
    check_msm_lengths(points.len(), scalars.len())?;
    let reprs: Vec<Repr> = scalars.par_iter().with_min_len(PAR_MIN_LEN).map(|s| s.into_bigint()).collect();
    Ok(G1Projective::msm_bigint(points, &reprs).into_affine())
}

/// The bases and 64-bit magnitudes of a signed MSM: a negative scalar moves its sign to its point
/// (affine negation is free), so one Pippenger over |s_i| ≤ 2^63 does the work. Its digits above
/// bit 64 are all zero, which costs a zero test per point and window but no group operation.
pub fn signed_to_unsigned(points: &[G1Affine], scalars: &[i64]) -> (Vec<G1Affine>, Vec<Repr>) {
    points
        .par_iter()
        .with_min_len(PAR_MIN_LEN)
        .zip(scalars)
        .map(|(p, &s)| (if s < 0 { -*p } else { *p }, BigInt([s.unsigned_abs(), 0, 0, 0])))
        .unzip()
}

/// Σ s_i·P_i for signed 64-bit scalars.
pub fn msm_i64(points: &[G1Affine], scalars: &[i64]) -> Result<G1Affine> {
    check_msm_lengths(points.len(), scalars.len())?;
    let (bases, reprs) = signed_to_unsigned(points, scalars);
    Ok(G1Projective::msm_bigint(&bases, &reprs).into_affine())
}

/// Σ_{b_i = 1} P_i: a parallel subset sum, no scalar multiplication. Bits must be 0 or 1.
pub fn msm_bits(points: &[G1Affine], bits: &[u8]) -> Result<G1Affine> {
    check_msm_lengths(points.len(), bits.len())?;
    if let Some(index) = bits.iter().position(|&b| b > 1) {
        return Err(KernelError::InvalidArgument(format!("bit {index} is {}, not 0 or 1", bits[index])));
    }
    Ok(subset_sum(points, |i| bits[i] == 1).into_affine())
}

/// Σ_{selected(i)} P_i with mixed additions, parallel over chunks.
pub fn subset_sum(points: &[G1Affine], selected: impl Fn(usize) -> bool + Sync) -> G1Projective {
    points
        .par_iter()
        .enumerate()
        .with_min_len(PAR_MIN_LEN / 4)
        .fold(G1Projective::zero, |acc, (i, p)| if selected(i) { acc + p } else { acc })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(11)
    }

    fn random_points(n: usize, rng: &mut impl Rng) -> Vec<G1Affine> {
        let g = G1Projective::generator();
        let out: Vec<G1Projective> = (0..n).map(|_| g * Fr::rand(rng)).collect();
        G1Projective::normalize_batch(&out)
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 9380 Appendix J.9.1 (BLS12381G1_XMD:SHA-256_SSWU_RO_); the file states its source.
    const RFC9380_J91: &str = include_str!("../../tests/vectors/hash_to_g1_rfc9380_j91.txt");

    #[test]
    fn fold_agrees_with_scale_and_add() {
        let mut rng = rng();
        let points = random_points(16, &mut rng);
        let (a, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let expected = add(&scale(&points[..8], a), &scale(&points[8..], b)).unwrap();
        assert_eq!(fold(&points, a, b).unwrap(), expected);
        let expected = add(&points[..8], &scale(&points[8..], b)).unwrap();
        assert_eq!(fold(&points, Fr::one(), b).unwrap(), expected);
        assert!(fold(&points[..3], a, b).is_err());
        assert!(fold(&[], a, b).unwrap().is_empty());
    }

    #[test]
    fn hash_to_g1_matches_rfc9380_vectors() {
        let mut lines = RFC9380_J91.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        let dst = lines.next().unwrap().strip_prefix("dst ").unwrap();
        let mut count = 0;
        for line in lines {
            let fields: Vec<&str> = line.split(' ').collect();
            let msg = fields[1].strip_prefix("msg=").unwrap();
            let expected = [hex(fields[2].strip_prefix("x=").unwrap()), hex(fields[3].strip_prefix("y=").unwrap())].concat();
            let got = encode(&[hash_to_g1(dst.as_bytes(), msg.as_bytes()).unwrap()]);
            assert_eq!(got, expected, "message {msg:?}");
            count += 1;
        }
        assert_eq!(count, 5);
        assert!(hash_to_g1(b"", b"abc").is_err());
        // Over-long tags are hashed down (RFC 9380 §5.3.3) rather than refused.
        assert!(hash_to_g1(&[7u8; 300], b"abc").unwrap().is_in_correct_subgroup_assuming_on_curve());
    }

    #[test]
    fn encodings_round_trip() {
        let mut rng = rng();
        let mut points = random_points(50, &mut rng);
        points.push(identity());
        assert_eq!(decode(&encode(&points)).unwrap(), points);
        assert_eq!(decompress(&compress(&points)).unwrap(), points);
        assert_eq!(decode_one(&encode(&points[..1])).unwrap(), points[0]);
        // The ZCash identity: compression and infinity flags, x = 0.
        let mut id = [0u8; 48];
        id[0] = 0xc0;
        assert_eq!(compress(&[identity()]), id.to_vec());
    }

    fn reason(bytes: &[u8]) -> String {
        match decompress(bytes) {
            Err(KernelError::InvalidPoint { reason, .. }) => reason,
            other => panic!("expected an invalid point, got {other:?}"),
        }
    }

    #[test]
    fn decompress_rejects_non_canonical_encodings() {
        let mut rng = rng();
        let good = compress(&random_points(1, &mut rng));
        let mut no_flag = good.clone();
        no_flag[0] &= 0x7f;
        assert!(reason(&no_flag).contains("compression flag"));
        let mut id_nonzero = [0u8; 48];
        id_nonzero[0] = 0xc0;
        id_nonzero[47] = 1;
        assert!(reason(&id_nonzero).contains("non-zero x"));
        let mut id_sign = [0u8; 48];
        id_sign[0] = 0xe0;
        assert!(reason(&id_sign).contains("sign flag"));
        // x = p (flags cleared bits are the top three of byte 0, p < 2^381).
        let mut x_is_p = ark_ff::BigInteger::to_bytes_be(&Fq::MODULUS);
        x_is_p[0] |= 0x80;
        assert!(reason(&x_is_p).contains("not below p"));
        assert!(reason(&off_curve_x()).contains("abscissa"));
        assert!(reason(&compress(&[outside_subgroup()])).contains("subgroup"));
        // The index of the first bad point is named.
        let two = [good.clone(), no_flag].concat();
        assert!(matches!(decompress(&two), Err(KernelError::InvalidPoint { index: 1, .. })));
        assert!(matches!(decompress(&good[..47]), Err(KernelError::InvalidArgument(_))));
    }

    /// The compressed encoding of the first x = 0, 1, 2, … with no curve point.
    fn off_curve_x() -> Vec<u8> {
        let x = (0u64..).find(|&x| G1Affine::get_point_from_x_unchecked(Fq::from(x), false).is_none()).unwrap();
        let mut bytes = [0u8; 48];
        bytes[40..].copy_from_slice(&x.to_be_bytes());
        bytes[0] |= 0x80;
        bytes.to_vec()
    }

    /// A curve point outside G1: the first x = 0, 1, … on E whose point is not killed by r.
    pub(crate) fn outside_subgroup() -> G1Affine {
        (0u64..)
            .filter_map(|x| G1Affine::get_point_from_x_unchecked(Fq::from(x), false))
            .find(|p| !p.is_in_correct_subgroup_assuming_on_curve())
            .unwrap()
    }

    #[test]
    fn decode_refuses_malformed_internal_points() {
        let mut bytes = encode(&random_points(3, &mut rng()));
        assert!(matches!(decode(&bytes[..95]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(decode_one(&bytes), Err(KernelError::LengthMismatch { .. })));
        bytes[96] |= 0x80; // the compression flag on an uncompressed encoding
        assert!(matches!(decode(&bytes), Err(KernelError::InvalidPoint { index: 1, .. })));
        bytes[96] = 0xff; // x ≥ p
        assert!(matches!(decode(&bytes), Err(KernelError::InvalidPoint { index: 1, .. })));
    }

    #[test]
    fn arithmetic_agrees_with_the_group_law() {
        let mut rng = rng();
        for n in [1usize, 7, 3000] {
            let a = random_points(n, &mut rng);
            let b = random_points(n, &mut rng);
            let s: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let i = n - 1;
            assert_eq!(add(&a, &b).unwrap()[i], (a[i] + b[i]).into_affine());
            assert_eq!(sub(&a, &b).unwrap()[i], (a[i] + (-b[i])).into_affine());
            assert_eq!(add(&neg(&a), &a).unwrap()[i], identity());
            assert_eq!(scale(&a, s[0])[i], (a[i] * s[0]).into_affine());
            assert_eq!(scale_each(&a, &s).unwrap()[i], (a[i] * s[i]).into_affine());
            let total: G1Projective = a.iter().map(|p| G1Projective::from(*p)).sum();
            assert_eq!(sum(&a), total.into_affine());
        }
        assert_eq!(sum(&[]), identity());
        let a = random_points(2, &mut rng);
        assert!(matches!(add(&a, &a[..1]), Err(KernelError::LengthMismatch { .. })));
        assert!(matches!(scale_each(&a, &[Fr::from(1u64)]), Err(KernelError::LengthMismatch { .. })));
    }

    fn naive(points: &[G1Affine], scalars: &[Fr]) -> G1Affine {
        points.iter().zip(scalars).map(|(p, s)| *p * s).sum::<G1Projective>().into_affine()
    }

    #[test]
    fn msms_agree_with_the_naive_sum() {
        let mut rng = rng();
        for n in [0usize, 1, 2, 31, 33, 1000] {
            let p = random_points(n, &mut rng);
            let full: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            assert_eq!(msm(&p, &full).unwrap(), naive(&p, &full), "n = {n}");
            let mut small: Vec<i64> = (0..n).map(|_| rng.gen()).collect();
            if n > 2 {
                (small[0], small[1], small[2]) = (i64::MIN, i64::MAX, 0);
            }
            let small_fr: Vec<Fr> = small.iter().map(|&v| crate::field::from_i64(v)).collect();
            assert_eq!(msm_i64(&p, &small).unwrap(), naive(&p, &small_fr), "n = {n}");
            let bits: Vec<u8> = (0..n).map(|_| rng.gen_range(0..2)).collect();
            let bits_fr: Vec<Fr> = bits.iter().map(|&b| Fr::from(b)).collect();
            assert_eq!(msm_bits(&p, &bits).unwrap(), naive(&p, &bits_fr), "n = {n}");
        }
        let p = random_points(2, &mut rng);
        assert!(matches!(msm(&p, &[Fr::from(1u64)]), Err(KernelError::LengthMismatch { .. })));
        assert!(matches!(msm_i64(&p, &[1]), Err(KernelError::LengthMismatch { .. })));
        assert!(matches!(msm_bits(&p, &[1, 2]), Err(KernelError::InvalidArgument(_))));
    }

    /// `cargo test --release -- --ignored --nocapture msm_throughput`
    #[test]
    #[ignore]
    fn msm_throughput() {
        let mut rng = rng();
        let n = 1 << 16;
        let p = random_points(n, &mut rng);
        let full: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let small: Vec<i64> = (0..n).map(|_| rng.gen()).collect();
        let bits: Vec<u8> = (0..n).map(|_| rng.gen_range(0..2)).collect();
        let time = |name: &str, f: &dyn Fn() -> G1Affine| {
            let _ = f();
            let start = std::time::Instant::now();
            let reps = 3;
            for _ in 0..reps {
                let _ = f();
            }
            let secs = start.elapsed().as_secs_f64() / reps as f64;
            println!("{name}: n = {n}, {:.1} ms, {:.3e} points/s", secs * 1e3, n as f64 / secs);
        };
        println!("threads: {}", rayon::current_num_threads());
        time("msm (full scalars)", &|| msm(&p, &full).unwrap());
        time("msm_i64 (64-bit signed)", &|| msm_i64(&p, &small).unwrap());
        time("msm_bits (0/1)", &|| msm_bits(&p, &bits).unwrap());
    }
}
