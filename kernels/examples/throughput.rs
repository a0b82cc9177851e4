//! The kernels' raw throughput, without the Python boundary: the machine's limit that the
//! prover's phases are compared with. Prints one JSON object; `bench/kernels.py` runs it once per
//! thread count (RAYON_NUM_THREADS).
//!
//!     cargo run --release --example throughput -- [log_vector_size] [log_msm_sizes...]

use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_std::UniformRand;
use rand::SeedableRng;
use std::time::Instant;
use zkdl_kernels::{field, mle, sumcheck::ProductSumcheck, Fr, G1Affine, G1Projective};

fn best_seconds(repeats: usize, mut run: impl FnMut()) -> f64 {
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<u32> = std::env::args().skip(1).map(|a| a.parse().expect("a log2 size")).collect();
    let log_vector = args.first().copied().unwrap_or(20);
    let msm_logs: Vec<u32> = if args.len() > 1 { args[1..].to_vec() } else { vec![16, 18, 20] };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let n = 1usize << log_vector;
    let a: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let b: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let r = Fr::rand(&mut rng);
    let mul = n as f64 / best_seconds(3, || drop(field::mul(&a, &b).unwrap()));
    let fold = n as f64 / best_seconds(3, || drop(mle::fold(&a, r).unwrap()));
    let w: Vec<Fr> = (0..log_vector).map(|_| Fr::rand(&mut rng)).collect();
    let round = n as f64
        / (0..3)
            .map(|_| {
                let mut prover = ProductSumcheck::new(vec![a.clone(), b.clone()], Some(&w)).unwrap();
                best_seconds(1, || {
                    prover.round_evaluations().unwrap();
                    prover.bind(r).unwrap();
                })
            })
            .fold(f64::INFINITY, f64::min);
    let max_msm = 1usize << msm_logs.iter().max().copied().unwrap_or(16);
    let bases: Vec<G1Affine> = G1Projective::normalize_batch(&(0..1024).map(|_| G1Projective::rand(&mut rng)).collect::<Vec<_>>());
    let points: Vec<G1Affine> = bases.iter().cycle().take(max_msm).copied().collect();
    let scalars: Vec<Fr> = (0..max_msm).map(|_| Fr::rand(&mut rng)).collect();
    let msm: Vec<String> = msm_logs
        .iter()
        .map(|&log| {
            let m = 1usize << log;
            // black_box, not drop(): the point is Copy, so dropping it does nothing.
            let secs = best_seconds(2, || _ = std::hint::black_box(G1Projective::msm(&points[..m], &scalars[..m]).unwrap()));
            format!("\"{log}\": {}", m as f64 / secs)
        })
        .collect();
    println!(
        "{{\"field_mul_per_s\": {mul}, \"mle_fold_elements_per_s\": {fold}, \"sumcheck_round_elements_per_s\": {round}, \"msm_full_points_per_s\": {{{}}}}}",
        msm.join(", ")
    );
}
