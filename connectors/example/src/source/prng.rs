//! A tiny deterministic PRNG (splitmix64): the same seed gives the same data on every platform,
//! without pulling in a random-number crate.

pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream derived from `seed` and a salt, so each table draws independently and adding a
    /// column to one table does not reshuffle the others.
    pub(crate) fn derived(seed: u64, salt: u64) -> Self {
        let mut mixer = Self(seed ^ salt.wrapping_mul(0xA076_1D64_78BD_642F));
        Self(mixer.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi` (the modulo bias is irrelevant for test data).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = hi.abs_diff(lo) + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_in_range() {
        let draw = |seed| {
            let mut rng = SplitMix64::derived(seed, 0);
            (0..50).map(|_| rng.range(-3, 3)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert!(draw(7).iter().all(|v| (-3..=3).contains(v)));
        let mut rng = SplitMix64::derived(1, 2);
        assert!(
            (0..100)
                .map(|_| rng.unit())
                .all(|u| (0.0..1.0).contains(&u))
        );
    }
}
