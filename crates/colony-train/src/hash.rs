//! Small stable hashes: FNV-1a 64 for the training-data digest written into model cards, and a
//! SplitMix64 mix for the validation split. Both are fixed algorithms (not `std`'s randomly
//! keyed hasher), so the same data gives the same digest and split on every machine and run.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64-bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv64(u64);

impl Fnv64 {
    pub(crate) fn new() -> Self {
        Fnv64(FNV_OFFSET)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    pub(crate) fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// SplitMix64 finaliser: a bijective mix with good avalanche.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// True when `task_id` falls in the validation split: a hash of the id alone, so a task is on
/// the same side whatever logs or seed the training run uses.
pub(crate) fn in_validation(task_id: u64, val_fraction: f64) -> bool {
    let u = (mix64(task_id) >> 11) as f64 / (1u64 << 53) as f64;
    u < val_fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_published_test_vectors() {
        let digest = |s: &str| {
            let mut h = Fnv64::new();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(digest(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(digest("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn validation_split_is_close_to_the_requested_fraction() {
        let n = 20_000u64;
        let val = (0..n).filter(|id| in_validation(*id, 0.2)).count() as f64;
        assert!((val / n as f64 - 0.2).abs() < 0.01, "{val}");
        assert!((0..100).all(|id| !in_validation(id, 0.0)));
    }
}
