//! Batch means, for a 95% confidence half-width of a mean from one long, autocorrelated run.
//!
//! Observations are grouped into batches of equal size; the batch means are nearly independent
//! once batches are long, so their spread gives the interval. The number of observations is not
//! known in advance, so the batch size doubles whenever 64 batches are full (pairs merge),
//! keeping between 32 and 64 batches in fixed memory.

const MAX_BATCHES: usize = 64;

#[derive(Clone, Debug)]
pub struct BatchMeans {
    size: u64,
    cur_sum: f64,
    cur_n: u64,
    batches: Vec<f64>,
}

impl Default for BatchMeans {
    fn default() -> Self {
        BatchMeans { size: 1, cur_sum: 0.0, cur_n: 0, batches: Vec::with_capacity(MAX_BATCHES) }
    }
}

impl BatchMeans {
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.cur_sum += x;
        self.cur_n += 1;
        if self.cur_n == self.size {
            self.batches.push(self.cur_sum / self.size as f64);
            self.cur_sum = 0.0;
            self.cur_n = 0;
            if self.batches.len() == MAX_BATCHES {
                for i in 0..MAX_BATCHES / 2 {
                    self.batches[i] = (self.batches[2 * i] + self.batches[2 * i + 1]) / 2.0;
                }
                self.batches.truncate(MAX_BATCHES / 2);
                self.size *= 2;
            }
        }
    }

    /// The 95% half-width of the mean, once there are enough batches to say (at least 10).
    pub fn half_width(&self) -> Option<f64> {
        let k = self.batches.len();
        if k < 10 {
            return None;
        }
        let mean = self.batches.iter().sum::<f64>() / k as f64;
        let var = self.batches.iter().map(|b| (b - mean) * (b - mean)).sum::<f64>() / (k - 1) as f64;
        Some(student_t_975(k - 1) * libm::sqrt(var / k as f64))
    }
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (Cornish–Fisher expansion,
/// within 0.2% of the exact value from 9 degrees of freedom up).
fn student_t_975(df: usize) -> f64 {
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    let z3 = z * z * z;
    let z5 = z3 * z * z;
    let z7 = z5 * z * z;
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    #[test]
    fn t_quantiles_match_tables() {
        for (df, t) in [(9, 2.262), (31, 2.040), (63, 1.998)] {
            assert!((student_t_975(df) - t).abs() < 0.005, "df {df}: {}", student_t_975(df));
        }
    }

    #[test]
    fn batches_stay_bounded_and_cover_iid_mean() {
        // For independent draws, the interval should contain the true mean most of the time.
        let mut covered = 0;
        for seed in 0..40 {
            let mut rng = Stream::new(seed, "b");
            let mut b = BatchMeans::default();
            for _ in 0..10_000 {
                b.add(rng.uniform());
            }
            assert!(b.batches.len() >= 32 && b.batches.len() < 64);
            let mean = b.batches.iter().sum::<f64>() / b.batches.len() as f64;
            if (mean - 0.5).abs() <= b.half_width().unwrap() {
                covered += 1;
            }
        }
        assert!(covered >= 34, "covered {covered} of 40");
    }

    #[test]
    fn too_few_batches_give_no_interval() {
        let mut b = BatchMeans::default();
        (0..5).for_each(|i| b.add(i as f64));
        assert_eq!(b.half_width(), None);
    }
}
