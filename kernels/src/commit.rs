//! Pedersen vector commitments and Hyrax row commitments over G1.
//!
//! A `CommitKey` for row length g holds g generators and a blinding generator, all from
//! hash-to-curve so that nobody knows a discrete-log relation between them:
//!
//! * `G_j = hash_to_g1(domain_tag, b"zkdl/G" ‖ j as u64 big-endian)` for j < g,
//! * `H   = hash_to_g1(domain_tag, b"zkdl/H")`.
//!
//! A flat vector t of length m·g is m rows of g consecutive entries; row i commits to
//! `C_i = Σ_j t[i·g + j]·G_j + ρ_i·H`. The blinding term is one scalar multiplication per row
//! (GLV), kept out of the row's MSM so that small-scalar rows stay on their short windows.
//!
//! Hash-to-curve costs about one scalar multiplication per generator, so the generators of the
//! protocol's tag are kept in an on-disk cache (`cache`), checked against digests pinned here.

use crate::curve::{self, subset_sum};
use crate::error::{KernelError, Result};
use crate::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::PrimeField;
use ark_ff::Zero;
use rayon::prelude::*;
use std::sync::OnceLock;

/// The largest row length accepted: beyond it the key alone would not fit in memory sensibly.
pub const MAX_ROW_LENGTH: usize = 1 << 24;

/// Bits [flat, flat + 8) of the flat bit tensor as a byte (flat is a multiple of 8).
fn byte_at(bits: &[u64], width: usize, flat: usize) -> usize {
    if width >= 8 {
        ((bits[flat / width] >> (flat % width)) & 0xff) as usize
    } else {
        (0..8).fold(0, |acc, k| acc | ((((bits[(flat + k) / width] >> ((flat + k) % width)) & 1) as usize) << k))
    }
}

/// The message hashed to the j-th generator.
pub fn generator_message(j: u64) -> Vec<u8> {
    [b"zkdl/G".as_slice(), &j.to_be_bytes()].concat()
}

/// G_j for j in `range`, freshly derived by hash-to-curve (in parallel).
pub fn derive_generators(domain_tag: &[u8], range: std::ops::Range<usize>) -> Result<Vec<G1Affine>> {
    let messages: Vec<Vec<u8>> = range.map(|j| generator_message(j as u64)).collect();
    curve::hash_to_g1_many(domain_tag, &messages)
}

/// The message hashed to the blinding generator.
pub const BLINDING_MESSAGE: &[u8] = b"zkdl/H";

/// Rows [first, first + |block|) of a bit tensor whose words fill whole rows, added word by word:
/// each byte from its group's table, a sign extension (top t ≥ 2 bytes 0xff) from `sign`.
fn add_words(
    block: &mut [G1Projective],
    first: usize,
    bits: &[u64],
    width: usize,
    words_per_row: usize,
    tables: &[G1Affine],
    sign: &[G1Affine],
) {
    let word_bytes = width / 8;
    for word in 0..words_per_row {
        let groups = &tables[word * word_bytes * 256..(word + 1) * word_bytes * 256];
        for (k, acc) in block.iter_mut().enumerate() {
            let value = bits[(first + k) * words_per_row + word];
            let top = ((!value << (64 - width)).leading_zeros() as usize / 8).min(word_bytes);
            let low = if top >= 2 { word_bytes - top } else { word_bytes };
            if low < word_bytes {
                *acc += sign[word * (word_bytes + 1) + top];
            }
            for b in 0..low {
                let byte = ((value >> (8 * b)) & 0xff) as usize;
                if byte != 0 {
                    *acc += groups[b * 256 + byte];
                }
            }
        }
    }
}

/// Rows [first, first + |block|) of any bit tensor, added group by group (8 generators each).
fn add_groups(block: &mut [G1Projective], first: usize, bits: &[u64], width: usize, g: usize, tables: &[G1Affine]) {
    for group in 0..g / 8 {
        for (k, acc) in block.iter_mut().enumerate() {
            let byte = byte_at(bits, width, (first + k) * g + 8 * group);
            if byte != 0 {
                *acc += tables[group * 256 + byte];
            }
        }
    }
}

/// Generators for rows of `row_length` entries plus the blinding generator, cached affine.
#[derive(Clone, Debug)]
pub struct CommitKey {
    generators: Vec<G1Affine>,
    blinding: G1Affine,
    /// Subset sums of each group of 8 consecutive generators (256 per group), built on first use
    /// by `commit_rows_bits`: one mixed addition per 8 bits instead of one per set bit.
    byte_tables: OnceLock<Vec<G1Affine>>,
}

/// Bit rows use the byte tables from this many rows on (the tables cost ~32 additions per generator).
const BYTE_TABLE_MIN_ROWS: usize = 16;
/// Byte tables are built for keys up to this row length (2^16 generators: 200 MB of tables).
const BYTE_TABLE_MAX_ROW_LENGTH: usize = 1 << 16;
/// Rows whose accumulators one task keeps (144 B each: they stay in cache with a word's tables).
const ROWS_PER_TASK: usize = 32;

impl CommitKey {
    /// Derives the key; `row_length` must be a power of two in 1..=`MAX_ROW_LENGTH`.
    pub fn new(domain_tag: &[u8], row_length: usize) -> Result<Self> {
        if !row_length.is_power_of_two() {
            return Err(KernelError::NotPowerOfTwo { what: "row_length", len: row_length });
        }
        if row_length > MAX_ROW_LENGTH {
            return Err(KernelError::InvalidArgument(format!("row_length {row_length} exceeds {MAX_ROW_LENGTH}")));
        }
        let generators = cache::generators(cache::dir_from_env().as_deref(), domain_tag, row_length)?;
        let blinding = curve::hash_to_g1(domain_tag, BLINDING_MESSAGE)?;
        Ok(Self { generators, blinding, byte_tables: OnceLock::new() })
    }

    pub fn row_length(&self) -> usize {
        self.generators.len()
    }

    pub fn generators(&self) -> &[G1Affine] {
        &self.generators
    }

    pub fn blinding_generator(&self) -> G1Affine {
        self.blinding
    }

    /// The number of rows of a flat length, checked against the number of blinds.
    fn rows(&self, len: usize, blinds: usize) -> Result<usize> {
        let g = self.row_length();
        if !len.is_multiple_of(g) {
            return Err(KernelError::InvalidArgument(format!("{len} entries are not a whole number of rows of {g}")));
        }
        if blinds != len / g {
            return Err(KernelError::LengthMismatch { what: "blinds", got: blinds, expected: len / g });
        }
        Ok(len / g)
    }

    /// Adds each row's blinding term and normalises all rows with one shared inversion.
    fn finish(&self, rows: Vec<G1Projective>, blinds: &[Fr]) -> Vec<G1Affine> {
        let rows: Vec<G1Projective> = rows.into_par_iter().zip(blinds).map(|(c, rho)| c + self.blinding * rho).collect();
        G1Projective::normalize_batch(&rows)
    }

    /// Hyrax row commitments of field entries.
    pub fn commit_rows(&self, values: &[Fr], blinds: &[Fr]) -> Result<Vec<G1Affine>> {
        self.rows(values.len(), blinds.len())?;
        let rows = values
            .par_chunks(self.row_length())
            .map(|row| {
                let reprs: Vec<_> = row.iter().map(|v| v.into_bigint()).collect();
                G1Projective::msm_bigint(&self.generators, &reprs)
            })
            .collect();
        Ok(self.finish(rows, blinds))
    }

    /// Hyrax row commitments of int64 entries (negative x is r − |x|): 64-bit Pippenger per row.
    pub fn commit_rows_i64(&self, values: &[i64], blinds: &[Fr]) -> Result<Vec<G1Affine>> {
        self.rows(values.len(), blinds.len())?;
        let rows = values
            .par_chunks(self.row_length())
            .map(|row| {
                let (bases, reprs) = curve::signed_to_unsigned(&self.generators, row);
                G1Projective::msm_bigint(&bases, &reprs)
            })
            .collect();
        Ok(self.finish(rows, blinds))
    }

    /// Hyrax row commitments of the 0/1 tensor whose flat entry i·width + j is bit j of `bits[i]`:
    /// subset sums of the generators, no scalar multiplication except the blinding term. A word
    /// with a bit set at or above `width` is an error (each tensor has exactly one encoding).
    pub fn commit_rows_bits(&self, bits: &[u64], width: usize, blinds: &[Fr]) -> Result<Vec<G1Affine>> {
        if !width.is_power_of_two() || width > 64 {
            return Err(KernelError::InvalidArgument(format!("bit width {width} is not a power of two ≤ 64")));
        }
        crate::bits::check_words(bits, width as u32)?;
        let len = bits.len().checked_mul(width).ok_or_else(|| KernelError::InvalidArgument("bit tensor too large".into()))?;
        let m = self.rows(len, blinds.len())?;
        let g = self.row_length();
        let rows = if g >= 8 && m >= BYTE_TABLE_MIN_ROWS && g <= BYTE_TABLE_MAX_ROW_LENGTH {
            self.byte_table_rows(bits, width, m)
        } else {
            let bit = |flat: usize| (bits[flat / width] >> (flat % width)) & 1 == 1;
            (0..m).into_par_iter().map(|i| subset_sum(&self.generators, |j| bit(i * g + j))).collect()
        };
        Ok(self.finish(rows, blinds))
    }

    /// The rows' subset sums from the byte tables, a block of rows per task walking the row's
    /// groups in turn (each group's 256 points stay in cache for every row of the block). Words of
    /// ≥ 16 bits filling whole rows also skip their sign extension: the top t ≥ 2 bytes all 0xff
    /// (a small negative entry) are one addition from `sign_tables`, 0x00 bytes none.
    fn byte_table_rows(&self, bits: &[u64], width: usize, m: usize) -> Vec<G1Projective> {
        let (g, tables) = (self.row_length(), self.byte_tables());
        let word_bytes = width / 8;
        let words_per_row = if width >= 16 && g.is_multiple_of(width) { g / width } else { 0 };
        let sign = self.sign_tables(tables, words_per_row, word_bytes);
        let mut rows = vec![G1Projective::zero(); m];
        rows.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(|(task, block)| {
            let first = task * ROWS_PER_TASK;
            match words_per_row {
                0 => add_groups(block, first, bits, width, g, tables),
                _ => add_words(block, first, bits, width, words_per_row, tables, &sign),
            }
        });
        rows
    }

    /// For each word position of a row, entry t (≤ its bytes) is the sum of its top t bytes' 0xff
    /// subset sums: the generators of a word's sign extension.
    fn sign_tables(&self, tables: &[G1Affine], words_per_row: usize, word_bytes: usize) -> Vec<G1Affine> {
        let sums: Vec<G1Projective> = (0..words_per_row)
            .into_par_iter()
            .flat_map_iter(|word| {
                let mut out = vec![G1Projective::zero(); word_bytes + 1];
                for t in 1..=word_bytes {
                    out[t] = out[t - 1] + tables[(word * word_bytes + word_bytes - t) * 256 + 0xff];
                }
                out
            })
            .collect();
        G1Projective::normalize_batch(&sums)
    }

    fn byte_tables(&self) -> &[G1Affine] {
        self.byte_tables.get_or_init(|| {
            let projective: Vec<G1Projective> = self
                .generators
                .par_chunks(8)
                .flat_map_iter(|group| {
                    let mut table = vec![G1Projective::zero(); 256];
                    for byte in 1..256usize {
                        let low = byte.trailing_zeros() as usize;
                        table[byte] = table[byte & (byte - 1)] + group[low];
                    }
                    table
                })
                .collect();
            G1Projective::normalize_batch(&projective)
        })
    }

    /// Σ_j v_j·G_j + ρ·H for a vector of at most g entries (it uses the first k generators).
    pub fn commit_vector(&self, values: &[Fr], blind: Fr) -> Result<G1Affine> {
        if values.len() > self.row_length() {
            return Err(KernelError::InvalidArgument(format!(
                "a vector of {} entries is longer than the row length {}",
                values.len(),
                self.row_length()
            )));
        }
        let reprs: Vec<_> = values.iter().map(|v| v.into_bigint()).collect();
        let body = G1Projective::msm_bigint(&self.generators[..values.len()], &reprs);
        Ok((body + self.blinding * blind).into_affine())
    }
}

/// The on-disk cache of the generators G_0, G_1, … of the protocol's domain tag.
///
/// Safety: a cached file is used only if the SHA-256 of its points' internal encodings equals a
/// digest pinned in this source (`PINNED`), computed once from a fresh derivation (the ignored test
/// `all_pinned_digests` recomputes them all, `pinned_digests_match_a_fresh_derivation` the first 11). Equal digests mean equal points (collision resistance), so a
/// corrupted, truncated or deliberately altered file, even one of valid points with known discrete
/// logarithms, is never used: it is recomputed and overwritten. The check costs one SHA-256 pass
/// (3 MB for 2^15 generators, milliseconds), not the hash-to-curve of every point. Tags without
/// pins (tests, other versions) are always derived.
///
/// File `<dir>/<first 16 hex digits of SHA-256(tag)>.g1`: `MAGIC` ‖ be64(count) ‖ count internal
/// 96-byte encodings; count is a power of two and shorter keys read a prefix (G_j does not depend
/// on the row length). Writes go to a temporary file in the same directory and are renamed over
/// the old one, so readers see a whole file or none; every I/O error falls back to deriving.
pub mod cache {
    use super::{derive_generators, Result};
    use crate::{curve, G1Affine};
    use sha2::{Digest, Sha256};
    use std::fs;
    use std::io::{Read, Write};
    use std::path::{Path, PathBuf};

    const MAGIC: &[u8; 8] = b"zkdlG1v1";
    const HEADER: usize = MAGIC.len() + 8;

    /// The tag whose generators are pinned (the protocol's, `zkdl.proof.commitment.DOMAIN_TAG`).
    pub const PINNED_TAG: &[u8] = b"zkdl/v1";

    /// PINNED[k] = SHA-256(encode(G_0 … G_{2^k − 1})) under `PINNED_TAG`, for k ≤ 16: every row
    /// length the layout rule allows (at most 2^15, docs/opening.md §1) with one doubling to spare.
    pub const PINNED: [&str; 17] = [
        "d20adaa78a7edf32d26af00370db366ba86dc20d1d7675470d6ba0d8a83213cb",
        "8605fa69212c33ab2f2d3da14dff11edf434c6ae208964d47fe986198eb52d62",
        "56eedc0189a33ed7c108916c19d5d838f517167a3830d1db4ede80c19dae5ec9",
        "6cad26aef7aff6c0025a7d46907b7f375d2d8f27df95b09c0e5520e57b5ae957",
        "0bf2b395f4b29472bd8aee5d34a38bf1ffe3eef629c136d761bfa7938f4e063d",
        "ec8d2906b5161d751a101a0c953bf46e77ebabe839dafcd1c41c7b984393e26e",
        "a71ca676b54670a486163ede85c1a9449d5848ac8ab662c6d79cfe1e6e821a82",
        "2d4e89f9a69f61bcf257288943501ff16a08e321d8bb8fe8553872b076a9496c",
        "9ff50cf31eb201ca7e3eecd03e905e133f8260c337c511b6e6a6b85387675125",
        "f59089ca093dc365984f3c0d3ab9dfc70649c1112743f17d9a435cfde494b9ef",
        "ae2214efe1e1d6a5f2fb021ab31275515574f4c0336890539252978a59151e62",
        "73979383e54330b72853e1a5982b52ac0804102dbbc133d460ad5efd80b560cb",
        "11e5dae71f35d9b2c575e10a7be977a1e251186b01d88d5de55cac7cbc84c537",
        "d4efe1c9d76309b234c809dd0a1f4bd6d96af8afef78a3f40953457cdcfbaecf",
        "5abfd7039c09c9d7a61ab6933ec9214dbfdf56486e81aa709bc7afdec7fdc6cd",
        "e038c6a32009e5f5cb76aa61db24a9fd7be31e4bd792bc8c06fb66889b2710ae",
        "835f0723b21ba70f5bd0c08d4a26ef29ced47ddf2824aa661fce6b8fb3c404d9",
    ];

    /// The cache directory: `$ZKDL_CACHE_DIR/generators` (none when that is set but empty), else
    /// `$XDG_CACHE_HOME/zkdl/generators` (an absolute XDG_CACHE_HOME only, as the XDG spec says),
    /// else `$HOME/.cache/zkdl/generators`, else none.
    pub fn dir_from_env() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("ZKDL_CACHE_DIR") {
            return (!dir.is_empty()).then(|| PathBuf::from(dir).join("generators"));
        }
        let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
        let base = xdg.or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("zkdl").join("generators"))
    }

    /// The pinned digest of the first n generators of `tag`, if there is one.
    fn pin(tag: &[u8], n: usize) -> Option<[u8; 32]> {
        if tag != PINNED_TAG || !n.is_power_of_two() {
            return None;
        }
        let hex = PINNED.get(n.trailing_zeros() as usize)?;
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(out)
    }

    /// The cache file of `tag` in `dir`.
    pub fn path(dir: &Path, tag: &[u8]) -> PathBuf {
        let digest = Sha256::digest(tag);
        let stem: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        dir.join(format!("{stem}.g1"))
    }

    /// G_0 … G_{n−1} of `tag`: from the cache in `dir` when it holds a pinned prefix, the rest
    /// derived (and the longer list written back, best effort).
    pub fn generators(dir: Option<&Path>, tag: &[u8], n: usize) -> Result<Vec<G1Affine>> {
        let Some(dir) = dir.filter(|_| pin(tag, n).is_some()) else {
            return derive_generators(tag, 0..n);
        };
        let mut found = load(dir, tag, n);
        if found.len() < n {
            found.extend(derive_generators(tag, found.len()..n)?);
            let _ = store(dir, tag, &found); // a read-only or full disk only costs the next run time
        }
        Ok(found)
    }

    /// The longest verified prefix the cache holds, at most n generators: all of them, a shorter
    /// pinned prefix (a file from a smaller key), or none (absent, unreadable, not matching).
    pub fn load(dir: &Path, tag: &[u8], n: usize) -> Vec<G1Affine> {
        read_verified(&path(dir, tag), tag, n).unwrap_or_default()
    }

    fn read_verified(path: &Path, tag: &[u8], n: usize) -> Option<Vec<G1Affine>> {
        let mut file = fs::File::open(path).ok()?;
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header).ok()?;
        let count = u64::from_be_bytes(header[MAGIC.len()..].try_into().ok()?);
        if &header[..MAGIC.len()] != MAGIC
            || !count.is_power_of_two()
            || file.metadata().ok()?.len() != HEADER as u64 + count.checked_mul(curve::POINT_BYTES as u64)?
        {
            return None;
        }
        let take = (count as usize).min(n); // both powers of two: a pinned length
        let mut body = vec![0u8; take * curve::POINT_BYTES];
        file.read_exact(&mut body).ok()?;
        if <[u8; 32]>::from(Sha256::digest(&body)) != pin(tag, take)? {
            return None;
        }
        curve::decode(&body).ok() // the digest makes these the true generators' encodings
    }

    /// Writes the generators of `tag` to the cache atomically (temporary file, then rename).
    pub fn store(dir: &Path, tag: &[u8], generators: &[G1Affine]) -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        let target = path(dir, tag);
        // Unique per process and call: concurrent writers never share a temporary file.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("g1");
        let temp = dir.join(format!(".{name}.{}.{call}.tmp", std::process::id()));
        let written = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(MAGIC)?;
            file.write_all(&(generators.len() as u64).to_be_bytes())?;
            file.write_all(&curve::encode(generators))?;
            file.flush()?;
            drop(file);
            fs::rename(&temp, &target)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::from_i64;
    use ark_ec::AffineRepr;
    use ark_ff::{UniformRand, Zero};
    use rand::{Rng, SeedableRng};

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(23)
    }

    /// Σ v_j·G_j + ρ·H by plain scalar multiplications: the reference.
    fn naive(key: &CommitKey, row: &[Fr], rho: Fr) -> G1Affine {
        let body: G1Projective = row.iter().zip(key.generators()).map(|(v, g)| *g * v).sum();
        (body + key.blinding_generator() * rho).into_affine()
    }

    fn randoms(n: usize, rng: &mut impl Rng) -> Vec<Fr> {
        (0..n).map(|_| Fr::rand(rng)).collect()
    }

    #[test]
    fn generators_are_deterministic_distinct_and_tag_bound() {
        let a = CommitKey::new(b"test/a", 64).unwrap();
        let again = CommitKey::new(b"test/a", 64).unwrap();
        let b = CommitKey::new(b"test/b", 64).unwrap();
        assert_eq!(a.generators(), again.generators());
        assert_eq!(a.blinding_generator(), again.blinding_generator());
        let mut all: Vec<G1Affine> = a.generators().to_vec();
        all.push(a.blinding_generator());
        all.extend_from_slice(b.generators());
        all.push(b.blinding_generator());
        assert!(all.iter().all(|p| !p.infinity && p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()));
        let encoded: std::collections::HashSet<Vec<u8>> = all.iter().map(|p| curve::compress(&[*p])).collect();
        assert_eq!(encoded.len(), all.len());
        // A shorter key is a prefix of a longer one with the same tag.
        assert_eq!(CommitKey::new(b"test/a", 8).unwrap().generators(), &a.generators()[..8]);
        assert_eq!(a.generators()[3], curve::hash_to_g1(b"test/a", &generator_message(3)).unwrap());
    }

    /// The digests of the first 2^k generators of the pinned tag, k = 0, …, max_k.
    fn prefix_digests(max_k: u32) -> Vec<String> {
        use sha2::{Digest, Sha256};
        let all = derive_generators(cache::PINNED_TAG, 0..1 << max_k).unwrap();
        (0..=max_k).map(|k| Sha256::digest(curve::encode(&all[..1 << k])).iter().map(|b| format!("{b:02x}")).collect()).collect()
    }

    #[test]
    fn pinned_digests_match_a_fresh_derivation() {
        let digests = prefix_digests(10);
        assert_eq!(digests, cache::PINNED[..=10].to_vec());
    }

    /// All of them (~30 s): `cargo test --release -- --ignored --nocapture pinned_digests`
    #[test]
    #[ignore]
    fn all_pinned_digests() {
        let digests = prefix_digests(cache::PINNED.len() as u32 - 1);
        for d in &digests {
            println!("        \"{d}\",");
        }
        assert_eq!(digests, cache::PINNED.to_vec());
    }

    /// A fresh empty directory for one cache test.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("zkdl-cache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn cached_generators_are_the_derived_ones() {
        let dir = scratch("roundtrip");
        let tag = cache::PINNED_TAG;
        let fresh = derive_generators(tag, 0..64).unwrap();
        assert!(cache::load(&dir, tag, 64).is_empty());
        assert_eq!(cache::generators(Some(&dir), tag, 16).unwrap(), &fresh[..16]);
        assert_eq!(cache::load(&dir, tag, 64), &fresh[..16], "a 16-generator file serves a prefix");
        // A longer key extends the file; a shorter one reads its prefix.
        assert_eq!(cache::generators(Some(&dir), tag, 64).unwrap(), fresh);
        assert_eq!(cache::load(&dir, tag, 64), fresh);
        assert_eq!(cache::load(&dir, tag, 8), &fresh[..8]);
        // Tags without pins never touch the disk.
        cache::generators(Some(&dir), b"test/unpinned", 8).unwrap();
        assert!(!cache::path(&dir, b"test/unpinned").exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupted_cache_file_is_not_used_and_is_repaired() {
        let dir = scratch("corrupt");
        let tag = cache::PINNED_TAG;
        let fresh = derive_generators(tag, 0..32).unwrap();
        cache::store(&dir, tag, &fresh).unwrap();
        let good = std::fs::read(cache::path(&dir, tag)).unwrap();
        let point = |i: usize| 16 + i * curve::POINT_BYTES;
        let mut flipped = good.clone();
        flipped[point(5) + 20] ^= 1;
        let mut swapped = good.clone(); // valid points, wrong order: only the digest can tell
        swapped[point(3)..point(4)].copy_from_slice(&good[point(4)..point(5)]);
        swapped[point(4)..point(5)].copy_from_slice(&good[point(3)..point(4)]);
        let mut foreign = good.clone(); // a valid point with a known discrete log (the group generator)
        foreign[point(0)..point(1)].copy_from_slice(&curve::encode(&[G1Affine::generator()]));
        let mut huge = good.clone();
        huge[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
        let mut magic = good.clone();
        magic[0] ^= 0xff;
        let truncated = good[..good.len() - 1].to_vec();
        for (name, bad) in [
            ("flipped", flipped),
            ("swapped", swapped),
            ("foreign", foreign),
            ("huge", huge),
            ("magic", magic),
            ("truncated", truncated),
            ("empty", vec![]),
        ] {
            std::fs::write(cache::path(&dir, tag), &bad).unwrap();
            assert!(cache::load(&dir, tag, 32).is_empty(), "{name}");
            assert_eq!(cache::generators(Some(&dir), tag, 32).unwrap(), fresh, "{name}");
            assert_eq!(std::fs::read(cache::path(&dir, tag)).unwrap(), good, "{name}: rewritten");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unusable_cache_directory_falls_back_to_deriving() {
        let dir = scratch("unusable");
        let blocker = dir.join("file");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let tag = cache::PINNED_TAG;
        let fresh = derive_generators(tag, 0..8).unwrap();
        assert!(cache::store(&blocker.join("generators"), tag, &fresh).is_err());
        assert_eq!(cache::generators(Some(&blocker.join("generators")), tag, 8).unwrap(), fresh);
        assert_eq!(cache::generators(None, tag, 8).unwrap(), fresh);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_arguments_are_checked() {
        assert!(matches!(CommitKey::new(b"t", 0), Err(KernelError::NotPowerOfTwo { .. })));
        assert!(matches!(CommitKey::new(b"t", 12), Err(KernelError::NotPowerOfTwo { .. })));
        assert!(matches!(CommitKey::new(b"t", MAX_ROW_LENGTH * 2), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(CommitKey::new(b"", 1), Err(KernelError::InvalidArgument(_))));
    }

    #[test]
    fn row_commitments_agree_with_the_reference() {
        let mut rng = rng();
        for (g, m) in [(1usize, 3usize), (4, 5), (64, 2), (256, 1)] {
            let key = CommitKey::new(b"test/rows", g).unwrap();
            let small: Vec<i64> = (0..m * g).map(|i| if i % 3 == 0 { rng.gen() } else { rng.gen_range(-300..300) }).collect();
            let values: Vec<Fr> = small.iter().map(|&v| from_i64(v)).collect();
            let blinds = randoms(m, &mut rng);
            let expected: Vec<G1Affine> = (0..m).map(|i| naive(&key, &values[i * g..][..g], blinds[i])).collect();
            assert_eq!(key.commit_rows(&values, &blinds).unwrap(), expected, "g = {g}");
            assert_eq!(key.commit_rows_i64(&small, &blinds).unwrap(), expected, "g = {g}");
            let full = randoms(m * g, &mut rng);
            assert_eq!(key.commit_rows(&full, &blinds).unwrap()[m - 1], naive(&key, &full[(m - 1) * g..], blinds[m - 1]));
        }
    }

    #[test]
    fn bit_rows_of_small_signed_entries_agree_with_the_field_path() {
        // two's complement words with long sign extensions (0xff or 0x00 top bytes), and -1 and 0
        let mut rng = rng();
        for (g, width, n) in [(64usize, 64usize, 64usize), (128, 32, 80), (64, 16, 96), (32, 64, 40)] {
            let key = CommitKey::new(b"test/bits", g).unwrap();
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let words: Vec<u64> = (0..n)
                .map(|i| match i % 7 {
                    0 => mask,
                    1 => 0,
                    2 => (-(1i64 << (rng.gen_range(0..width as u32 - 1)))) as u64 & mask,
                    _ => (rng.gen_range(-(1i64 << 12)..(1i64 << 12)) as u64) & mask,
                })
                .collect();
            let flat: Vec<Fr> = (0..n * width).map(|f| Fr::from((words[f / width] >> (f % width)) & 1)).collect();
            let blinds = randoms(n * width / g, &mut rng);
            let expected = key.commit_rows(&flat, &blinds).unwrap();
            assert_eq!(key.commit_rows_bits(&words, width, &blinds).unwrap(), expected, "g = {g}, width = {width}");
        }
    }

    #[test]
    fn bit_rows_agree_with_the_field_path() {
        let mut rng = rng();
        for (g, width, n) in
            [(1usize, 1usize, 3usize), (8, 4, 6), (16, 64, 3), (64, 8, 24), (4, 16, 1), (8, 2, 64), (16, 64, 32), (64, 64, 64)]
        {
            let key = CommitKey::new(b"test/bits", g).unwrap();
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let words: Vec<u64> = (0..n).map(|i| if i % 5 == 1 { 0 } else { rng.gen::<u64>() & mask }).collect();
            let flat: Vec<Fr> = (0..n * width).map(|f| Fr::from((words[f / width] >> (f % width)) & 1)).collect();
            let blinds = randoms(n * width / g, &mut rng);
            assert_eq!(
                key.commit_rows_bits(&words, width, &blinds).unwrap(),
                key.commit_rows(&flat, &blinds).unwrap(),
                "g = {g}, width = {width}"
            );
        }
    }

    #[test]
    fn bit_rows_refuse_bits_above_the_width() {
        let key = CommitKey::new(b"test/bits", 4).unwrap();
        let one = Fr::from(1u64);
        // Two word arrays that agree below the width must not give the same commitment silently.
        assert!(key.commit_rows_bits(&[0b0101, 0b0011], 2, &[one]).is_err());
        assert!(key.commit_rows_bits(&[0b01, 0b11], 2, &[one]).is_ok());
        assert!(key.commit_rows_bits(&[1 << 63; 64], 4, &[one; 64]).is_err());
    }

    #[test]
    fn vector_commitment_uses_a_prefix_of_the_generators() {
        let mut rng = rng();
        let key = CommitKey::new(b"test/vector", 8).unwrap();
        for k in [0usize, 1, 5, 8] {
            let v = randoms(k, &mut rng);
            let rho = Fr::rand(&mut rng);
            assert_eq!(key.commit_vector(&v, rho).unwrap(), naive(&key, &v, rho), "k = {k}");
        }
        let mut padded = randoms(3, &mut rng);
        let rho = Fr::rand(&mut rng);
        let short = key.commit_vector(&padded, rho).unwrap();
        padded.resize(8, Fr::zero());
        assert_eq!(key.commit_rows(&padded, &[rho]).unwrap(), vec![short]);
        assert!(matches!(key.commit_vector(&randoms(9, &mut rng), rho), Err(KernelError::InvalidArgument(_))));
    }

    #[test]
    fn shapes_are_checked() {
        let key = CommitKey::new(b"test/shapes", 4).unwrap();
        let one = Fr::from(1u64);
        assert!(matches!(key.commit_rows(&[one; 6], &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows(&[one; 8], &[one]), Err(KernelError::LengthMismatch { .. })));
        assert!(matches!(key.commit_rows_i64(&[1; 5], &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1], 3, &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1], 128, &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1], 2, &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1, 2], 4, &[one]), Err(KernelError::LengthMismatch { .. })));
        assert!(key.commit_rows(&[], &[]).unwrap().is_empty());
    }
}
