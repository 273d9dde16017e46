//! Where a training run writes: claiming the next free `router-vNNN/` under a models root,
//! seeded weight initialisation (candle's CPU generator cannot be seeded), weight snapshots of
//! the best epoch, and the card's timestamp.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use candle_core::{Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

use crate::TrainError;
use colony_models::ModelDir;

const DIR_PREFIX: &str = "router-v";

/// `router-v012` gives 12; other names give `None`.
fn parse_version(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(DIR_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Creates the next free `router-vNNN/` under `root` and returns (version, dir). Counts every
/// `router-vNNN` directory, finished or not, and claims with `create_dir`, so two trainers
/// sharing a root never write into the same version.
pub(crate) fn claim_version(root: &Path) -> Result<(u32, PathBuf), TrainError> {
    std::fs::create_dir_all(root).map_err(TrainError::io(root))?;
    let mut next = 1;
    for entry in std::fs::read_dir(root).map_err(TrainError::io(root))? {
        let entry = entry.map_err(TrainError::io(root))?;
        if let Some(v) = entry.file_name().to_str().and_then(parse_version) {
            next = next.max(v.saturating_add(1));
        }
    }
    loop {
        let dir = ModelDir::path_for(root, next);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((next, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => next += 1,
            Err(e) => return Err(TrainError::io(&dir)(e)),
        }
    }
}

/// Re-initialises every variable from a ChaCha stream seeded with `seed`, visiting them in name
/// order, with the distributions `colony-models` uses: Kaiming-normal `[out, in]` weights,
/// uniform ±1/√in biases of linear layers, unit scales and zero shifts of layer norms.
pub(crate) fn seeded_init(varmap: &VarMap, seed: u64) -> Result<(), TrainError> {
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| TrainError::config("model", "variable map lock poisoned"))?;
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for name in names {
        let var = &vars[name];
        let sibling = name
            .strip_suffix(".bias")
            .and_then(|p| vars.get(&format!("{p}.weight")));
        let values = init_values(name, var, sibling, &mut rng)?;
        let t = Tensor::from_vec(values, var.shape(), var.device())?.to_dtype(var.dtype())?;
        var.set(&t)?;
    }
    Ok(())
}

fn init_values(
    name: &str,
    var: &Var,
    sibling: Option<&Var>,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f32>, TrainError> {
    let n = var.elem_count();
    let dims = var.dims();
    if dims.len() == 2 {
        // Kaiming normal with the ReLU gain, as candle's DEFAULT_KAIMING_NORMAL.
        let std = (2.0 / dims[1] as f64).sqrt();
        let normal = |rng: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(rng) };
        return Ok((0..n).map(|_| (std * normal(rng)) as f32).collect());
    }
    let linear_in = sibling.filter(|w| w.dims().len() == 2).map(|w| w.dims()[1]);
    Ok(match (name.ends_with(".bias"), linear_in) {
        (true, Some(fan_in)) => {
            let bound = 1.0 / (fan_in as f32).sqrt();
            let uniform = Uniform::new(-bound, bound)
                .map_err(|e| TrainError::config("model", format!("{name}: {e}")))?;
            (0..n).map(|_| uniform.sample(rng)).collect()
        }
        (true, None) => vec![0.0; n],
        (false, _) => vec![1.0; n],
    })
}

/// A copy of every variable's value, to restore the best epoch after training goes on.
pub(crate) struct Snapshot(Vec<(Var, Tensor)>);

impl Snapshot {
    pub fn take(varmap: &VarMap) -> Result<Self, TrainError> {
        let vars = varmap.all_vars();
        let mut out = Vec::with_capacity(vars.len());
        for v in vars {
            let copy = v.as_tensor().copy()?;
            out.push((v, copy));
        }
        Ok(Snapshot(out))
    }

    pub fn restore(&self) -> Result<(), TrainError> {
        for (var, value) in &self.0 {
            var.set(value)?;
        }
        Ok(())
    }
}

/// The current UTC time in RFC 3339 (`2025-01-02T03:04:05Z`).
pub(crate) fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_787_045), "2025-01-02T03:04:05Z");
    }

    #[test]
    fn versions_parse_only_in_the_expected_form() {
        assert_eq!(parse_version("router-v007"), Some(7));
        assert_eq!(parse_version("router-v"), None);
        assert_eq!(parse_version("router-v1a"), None);
        assert_eq!(parse_version("forecaster-v001"), None);
    }
}
