//! The Fiat–Shamir transcript: a 32-byte running Keccak-256 digest.
//!
//! # Byte layout (version 1)
//!
//! `K` is Keccak-256 with the original Keccak padding (the EVM's `keccak256`, *not* SHA3-256),
//! `‖` is concatenation and `be64(x)` is x as 8 bytes, big-endian. Every update rehashes the whole
//! running state together with a one-byte operation tag and length-prefixed fields, so that no two
//! different operation sequences feed `K` the same bytes.
//!
//! ```text
//! new(domain):             state ← K("zkdl-transcript-v1" ‖ be64(|domain|) ‖ domain)
//! absorb_bytes(l, d):      state ← K(state ‖ 0x01 ‖ be64(|l|) ‖ l ‖ be64(|d|) ‖ d)
//! absorb_fr(l, v[0..n]):   the same with tag 0x02 and d = enc(v_0) ‖ … ‖ enc(v_{n-1}), |d| = 32n,
//!                          enc = the canonical 32-byte big-endian encoding (value < r)
//! absorb_points(l, P[0..n]): the same with tag 0x03 and d = the 48-byte compressed (ZCash)
//!                          encodings concatenated, |d| = 48n
//! challenge(l, n):         state ← K(state ‖ 0x04 ‖ be64(|l|) ‖ l ‖ be64(n)), then for i < n
//!                          c_i = (K(state ‖ 0x05 ‖ be64(2i)) ‖ K(state ‖ 0x05 ‖ be64(2i+1))) mod r,
//!                          the 64 bytes read as one big-endian integer (bias < 2^-250).
//! ```
//!
//! The state changes with every challenge (its first step), so two successive challenges differ
//! even with the same label; challenge bytes are hashed under tag 0x05, which no state update
//! uses, so no challenge output ever equals a transcript state. The initial prefix
//! `zkdl-transcript-v1` is 18 ASCII bytes. `state()` exposes the current 32 bytes.

use crate::curve;
use crate::error::{KernelError, Result};
use crate::field::to_bytes_be;
use crate::{Fr, G1Affine};
use ark_ff::PrimeField;
use sha3::{Digest, Keccak256};

/// The version prefix hashed into every initial state.
pub const VERSION: &[u8] = b"zkdl-transcript-v1";

/// The most challenges one call may squeeze (a guard against absurd allocations).
pub const MAX_CHALLENGES: usize = 1 << 24;

const TAG_BYTES: u8 = 0x01;
const TAG_FR: u8 = 0x02;
const TAG_POINTS: u8 = 0x03;
const TAG_CHALLENGE: u8 = 0x04;
const TAG_SQUEEZE: u8 = 0x05;

fn be64(x: usize) -> [u8; 8] {
    (x as u64).to_be_bytes()
}

/// A Keccak-256 Fiat–Shamir transcript; `Clone` forks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    state: [u8; 32],
}

impl Transcript {
    pub fn new(domain: &[u8]) -> Self {
        let state = Keccak256::new().chain_update(VERSION).chain_update(be64(domain.len())).chain_update(domain).finalize();
        Self { state: state.into() }
    }

    /// The running digest.
    pub fn state(&self) -> [u8; 32] {
        self.state
    }

    /// state ← K(state ‖ tag ‖ be64(|label|) ‖ label ‖ …); the caller appends the rest.
    fn begin(&self, tag: u8, label: &[u8]) -> Keccak256 {
        Keccak256::new().chain_update(self.state).chain_update([tag]).chain_update(be64(label.len())).chain_update(label)
    }

    fn absorb(&mut self, tag: u8, label: &[u8], data: &[u8]) {
        self.state = self.begin(tag, label).chain_update(be64(data.len())).chain_update(data).finalize().into();
    }

    pub fn absorb_bytes(&mut self, label: &[u8], data: &[u8]) {
        self.absorb(TAG_BYTES, label, data);
    }

    /// Absorbs the canonical 32-byte big-endian encodings.
    pub fn absorb_fr(&mut self, label: &[u8], values: &[Fr]) {
        let data: Vec<u8> = values.iter().flat_map(to_bytes_be).collect();
        self.absorb(TAG_FR, label, &data);
    }

    /// Absorbs the 48-byte compressed encodings.
    pub fn absorb_points(&mut self, label: &[u8], points: &[G1Affine]) {
        self.absorb(TAG_POINTS, label, &curve::compress(points));
    }

    /// `n` challenges, each 64 bytes of Keccak output reduced mod r.
    pub fn challenge(&mut self, label: &[u8], n: usize) -> Result<Vec<Fr>> {
        if n > MAX_CHALLENGES {
            return Err(KernelError::InvalidArgument(format!("{n} challenges requested, at most {MAX_CHALLENGES}")));
        }
        self.state = self.begin(TAG_CHALLENGE, label).chain_update(be64(n)).finalize().into();
        let block = |j: usize| Keccak256::new().chain_update(self.state).chain_update([TAG_SQUEEZE]).chain_update(be64(j)).finalize();
        Ok((0..n).map(|i| Fr::from_be_bytes_mod_order(&[block(2 * i), block(2 * i + 1)].concat())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::G1Projective;
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::{BigInteger, UniformRand};
    use rand::SeedableRng;

    fn keccak(bytes: &[u8]) -> [u8; 32] {
        Keccak256::digest(bytes).into()
    }

    #[test]
    fn keccak_is_the_evm_one() {
        let empty = keccak(b"");
        assert_eq!(empty[..4], [0xc5, 0xd2, 0x46, 0x01]);
    }

    /// The layout in the module docs, written out byte by byte.
    #[test]
    fn layout_matches_the_documentation() {
        let domain = b"dom";
        let s0 = keccak(&[VERSION, &be64(3), domain].concat());
        let mut t = Transcript::new(domain);
        assert_eq!(t.state(), s0);
        t.absorb_bytes(b"lb", b"xyz");
        let s1 = keccak(&[&s0[..], &[1], &be64(2), b"lb", &be64(3), b"xyz"].concat());
        assert_eq!(t.state(), s1);
        let v = [Fr::from(5u64), -Fr::from(1u64)];
        t.absorb_fr(b"f", &v);
        let enc: Vec<u8> = v.iter().flat_map(|x| x.into_bigint().to_bytes_be()).collect();
        assert_eq!(enc[31], 5);
        let s2 = keccak(&[&s1[..], &[2], &be64(1), b"f", &be64(64), &enc].concat());
        assert_eq!(t.state(), s2);
        let p = [(G1Projective::generator() * Fr::from(3u64)).into_affine()];
        t.absorb_points(b"p", &p);
        let s3 = keccak(&[&s2[..], &[3], &be64(1), b"p", &be64(48), &curve::compress(&p)].concat());
        assert_eq!(t.state(), s3);
        let c = t.challenge(b"c", 2).unwrap();
        let s4 = keccak(&[&s3[..], &[4], &be64(1), b"c", &be64(2)].concat());
        assert_eq!(t.state(), s4);
        let block = |j: usize| keccak(&[&s4[..], &[5], &be64(j)].concat());
        let wide = |i: usize| [block(2 * i), block(2 * i + 1)].concat();
        assert_eq!(c, vec![Fr::from_be_bytes_mod_order(&wide(0)), Fr::from_be_bytes_mod_order(&wide(1))]);
    }

    #[test]
    fn every_input_changes_the_challenge() {
        let run = |domain: &[u8], ops: &[(&[u8], &[u8])]| {
            let mut t = Transcript::new(domain);
            for (label, data) in ops {
                t.absorb_bytes(label, data);
            }
            t.challenge(b"c", 1).unwrap()[0]
        };
        let base = run(b"d", &[(b"a", b"1"), (b"b", b"2")]);
        assert_eq!(base, run(b"d", &[(b"a", b"1"), (b"b", b"2")]));
        let variants = [
            run(b"e", &[(b"a", b"1"), (b"b", b"2")]),
            run(b"d", &[(b"x", b"1"), (b"b", b"2")]),
            run(b"d", &[(b"a", b"9"), (b"b", b"2")]),
            run(b"d", &[(b"b", b"2"), (b"a", b"1")]),
            // Moving a byte across the label/data boundary must not collide (length prefixes).
            run(b"d", &[(b"a1", b""), (b"b", b"2")]),
            run(b"d", &[(b"a", b"1"), (b"b", b"2"), (b"", b"")]),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(*v, base, "variant {i}");
        }
        // The same bytes absorbed as bytes or as a field element differ (operation tags).
        let (mut a, mut b) = (Transcript::new(b"d"), Transcript::new(b"d"));
        a.absorb_bytes(b"l", &to_bytes_be(&Fr::from(7u64)));
        b.absorb_fr(b"l", &[Fr::from(7u64)]);
        assert_ne!(a.state(), b.state());
    }

    #[test]
    fn successive_challenges_differ_and_forks_agree() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let mut t = Transcript::new(b"d");
        t.absorb_fr(b"v", &[Fr::rand(&mut rng)]);
        let fork = t.clone();
        let first = t.challenge(b"c", 3).unwrap();
        let second = t.challenge(b"c", 3).unwrap();
        assert_ne!(first, second);
        assert!(first[0] != first[1] && first[1] != first[2]);
        let mut fork = fork;
        assert_eq!(fork.challenge(b"c", 3).unwrap(), first);
        // A prefix request is not a prefix of a longer one: n is absorbed.
        let mut other = Transcript::new(b"d");
        let mut other2 = other.clone();
        assert_ne!(other.challenge(b"c", 1).unwrap()[0], other2.challenge(b"c", 2).unwrap()[0]);
        assert!(t.challenge(b"c", MAX_CHALLENGES + 1).is_err());
        assert!(t.challenge(b"c", 0).unwrap().is_empty());
    }
}
