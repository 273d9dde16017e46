//! The manifest (`DIR/manifest.json`): what the log is and which segments are sealed. It changes
//! only when a log is created and when a segment is sealed, and is replaced atomically
//! (temporary file, fsync, rename, fsync of the directory).

use crate::LogError;
use crate::schema::{LOG_FORMAT_VERSION, StreamKind};
use colony_core::{AGENT_FEATURE_DIM, FEATURE_SCHEMA_VERSION, TASK_FEATURE_DIM};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
const FORMAT_NAME: &str = "colony-experience-log";

/// A segment that is complete: it ends with the Arrow end-of-stream marker and never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SealedSegment {
    pub id: u32,
    /// Size of the `.arrows` file, end-of-stream marker included.
    pub bytes: u64,
    pub rows: u64,
    pub batches: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StreamManifest {
    pub sealed: Vec<SealedSegment>,
}

impl StreamManifest {
    /// The id of the segment appends go to: the one after the last sealed segment.
    pub fn active_id(&self) -> u32 {
        self.sealed.last().map_or(1, |s| s.id + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: String,
    pub log_format_version: u32,
    pub feature_schema_version: u32,
    pub task_feature_dim: usize,
    pub agent_feature_dim: usize,
    pub events: StreamManifest,
    pub metrics: StreamManifest,
}

pub(crate) fn manifest_path(dir: &Path) -> PathBuf {
    dir.join(MANIFEST_FILE)
}

/// `DIR/events/seg-00000001.arrows` and its index `DIR/events/seg-00000001.idx`.
pub(crate) fn segment_path(dir: &Path, stream: StreamKind, id: u32, ext: &str) -> PathBuf {
    dir.join(stream.name()).join(format!("seg-{id:08}.{ext}"))
}

/// Makes renames and file creations inside `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io("cannot sync directory", dir, e))
}

impl Manifest {
    pub fn new() -> Self {
        Self {
            format: FORMAT_NAME.to_string(),
            log_format_version: LOG_FORMAT_VERSION,
            feature_schema_version: FEATURE_SCHEMA_VERSION,
            task_feature_dim: TASK_FEATURE_DIM,
            agent_feature_dim: AGENT_FEATURE_DIM,
            events: StreamManifest::default(),
            metrics: StreamManifest::default(),
        }
    }

    pub fn stream(&self, kind: StreamKind) -> &StreamManifest {
        match kind {
            StreamKind::Events => &self.events,
            StreamKind::Metrics => &self.metrics,
        }
    }

    pub fn stream_mut(&mut self, kind: StreamKind) -> &mut StreamManifest {
        match kind {
            StreamKind::Events => &mut self.events,
            StreamKind::Metrics => &mut self.metrics,
        }
    }

    /// Reads `DIR/manifest.json`, with an error naming `dir` if it is not a log.
    pub fn load(dir: &Path) -> Result<Self, LogError> {
        let not_a_log = |reason: &str| LogError::NotALog {
            path: dir.to_path_buf(),
            reason: reason.to_string(),
        };
        if !dir.is_dir() {
            return Err(not_a_log("no such directory"));
        }
        let path = manifest_path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(not_a_log("it has no manifest.json"));
            }
            Err(e) => return Err(LogError::io("cannot read", path, e)),
        };
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|source| LogError::Manifest { path, source })?;
        if manifest.format != FORMAT_NAME {
            return Err(not_a_log(&format!(
                "manifest format is `{}`",
                manifest.format
            )));
        }
        if manifest.log_format_version > LOG_FORMAT_VERSION {
            return Err(not_a_log(&format!(
                "log format version {} is newer than this build reads ({LOG_FORMAT_VERSION})",
                manifest.log_format_version
            )));
        }
        Ok(manifest)
    }

    /// Errors unless the log's features use this build's encoding (needed to append to it).
    pub fn check_features(&self, dir: &Path) -> Result<(), LogError> {
        let same = self.feature_schema_version == FEATURE_SCHEMA_VERSION
            && self.task_feature_dim == TASK_FEATURE_DIM
            && self.agent_feature_dim == AGENT_FEATURE_DIM;
        if same {
            return Ok(());
        }
        Err(LogError::FeatureSchemaMismatch {
            path: dir.to_path_buf(),
            found: self.feature_schema_version,
            found_task: self.task_feature_dim,
            found_agent: self.agent_feature_dim,
            expected: FEATURE_SCHEMA_VERSION,
        })
    }

    /// Replaces `DIR/manifest.json` atomically: a crash leaves either the old or the new one.
    pub fn store(&self, dir: &Path) -> Result<(), LogError> {
        let path = manifest_path(dir);
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let text = serde_json::to_vec_pretty(self).map_err(|source| LogError::Manifest {
            path: path.clone(),
            source,
        })?;
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()
        };
        write().map_err(|e| LogError::io("cannot write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| LogError::io("cannot replace", &path, e))?;
        sync_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load_round_trips_and_active_id_follows_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest::new();
        assert_eq!(m.events.active_id(), 1);
        m.events.sealed.push(SealedSegment {
            id: 1,
            bytes: 100,
            rows: 3,
            batches: 1,
        });
        m.store(dir.path()).unwrap();
        let back = Manifest::load(dir.path()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.events.active_id(), 2);
        assert!(!dir.path().join("manifest.json.tmp").exists());
    }

    #[test]
    fn loading_a_non_log_names_the_path_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no manifest.json"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        let missing = dir.path().join("nope");
        let err = Manifest::load(&missing).unwrap_err().to_string();
        assert!(
            err.contains("no such directory") && err.contains("nope"),
            "{err}"
        );
        std::fs::write(dir.path().join(MANIFEST_FILE), "{not json").unwrap();
        let err = Manifest::load(dir.path()).unwrap_err();
        assert!(matches!(err, LogError::Manifest { .. }), "{err}");
    }

    #[test]
    fn a_different_feature_schema_is_refused_for_appends() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest::new();
        m.check_features(dir.path()).unwrap();
        m.agent_feature_dim += 1;
        let err = m.check_features(dir.path()).unwrap_err();
        assert!(
            matches!(err, LogError::FeatureSchemaMismatch { .. }),
            "{err}"
        );
    }
}
