//! Seeded randomness. Sequential ChaCha streams serve one purpose each (workload, setup, faults,
//! policy), and counter-based hashes give each task its own luck (service noise, success draw,
//! link jitter) from (seed, task, agent), so a policy's choices never shift the draws of another
//! task: two policies see the same workload and the same luck (common random numbers).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream or hash is used for; distinct values keep the streams independent.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Purpose {
    Workload = 1,
    Setup = 2,
    Faults = 3,
    Policy = 4,
    Service = 5,
    Success = 6,
    Jitter = 7,
    Candidates = 8,
    Heartbeat = 9,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser: a bijective mix with good avalanche.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of (seed, purpose, a, b).
pub(crate) fn hash(seed: u64, purpose: Purpose, a: u64, b: u64) -> u64 {
    let mut h = mix64(seed.wrapping_add(GOLDEN));
    h = mix64(h ^ (purpose as u64).wrapping_mul(GOLDEN));
    h = mix64(h ^ a);
    mix64(h ^ b.wrapping_mul(GOLDEN).wrapping_add(1))
}

/// A uniform draw in [0, 1) from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal draw from two hashes (Box-Muller).
pub(crate) fn std_normal(h1: u64, h2: u64) -> f64 {
    let u1 = 1.0 - unit(h1); // (0, 1]: ln is finite
    let u2 = unit(h2);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A multiplicative noise factor with mean 1 and coefficient of variation `cv` (lognormal).
pub(crate) fn lognormal_factor(z: f64, cv: f64) -> f64 {
    if cv <= 0.0 {
        return 1.0;
    }
    let sigma2 = (1.0 + cv * cv).ln();
    (z * sigma2.sqrt() - 0.5 * sigma2).exp()
}

/// The sequential stream for one purpose (and sub-stream, such as an agent index).
pub(crate) fn stream(seed: u64, purpose: Purpose, sub: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(hash(seed, purpose, sub, 0))
}

/// An exponential draw with the given mean from a uniform in [0, 1).
pub(crate) fn exp_from_unit(u: f64, mean: f64) -> f64 {
    -(1.0 - u).ln() * mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ_by_every_input_and_units_look_uniform() {
        let base = hash(1, Purpose::Service, 2, 3);
        assert_ne!(base, hash(2, Purpose::Service, 2, 3));
        assert_ne!(base, hash(1, Purpose::Success, 2, 3));
        assert_ne!(base, hash(1, Purpose::Service, 3, 3));
        assert_ne!(base, hash(1, Purpose::Service, 2, 4));
        let n = 20_000;
        let mean = (0..n)
            .map(|i| unit(hash(7, Purpose::Jitter, i, 0)))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn lognormal_factor_has_mean_one() {
        let n = 50_000u64;
        let mean = (0..n)
            .map(|i| {
                let z = std_normal(
                    hash(3, Purpose::Service, i, 0),
                    hash(3, Purpose::Service, i, 1),
                );
                lognormal_factor(z, 0.8)
            })
            .sum::<f64>()
            / n as f64;
        assert!((mean - 1.0).abs() < 0.03, "mean {mean}");
        assert_eq!(lognormal_factor(2.0, 0.0), 1.0);
    }
}
