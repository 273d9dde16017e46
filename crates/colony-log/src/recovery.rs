//! Crash recovery of the active segments when a log is opened for writing. Appends only ever
//! add to the end of the active segment and its index, so a crash can only leave a torn tail:
//! recovery keeps the longest prefix of committed, checksum-valid messages and cuts the rest.

use crate::LogError;
use crate::manifest::{Manifest, segment_path};
use crate::schema::StreamKind;
use crate::segment::{
    ENTRY_LEN, EOS, INDEX_HEADER, IndexEntry, decode_schema, read_index, read_message,
    remove_segment_files,
};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What recovery found and cut in one stream's active segment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StreamRecovery {
    /// The active segment examined, if one existed.
    pub segment: Option<u32>,
    /// Batches and rows that were intact and kept.
    pub batches_kept: u64,
    pub rows_kept: u64,
    /// Bytes cut from the end of the segment file (a torn or damaged tail).
    pub bytes_cut: u64,
    /// Bytes cut from the end of the segment's index.
    pub index_bytes_cut: u64,
    /// Index entries dropped because their batch was missing or failed its checksum.
    pub batches_dropped: u64,
    /// A seal was interrupted (end-of-stream marker written, manifest not yet updated): the
    /// marker was removed and the segment stays active. No data is lost.
    pub seal_interrupted: bool,
    /// The segment held nothing committed (a crash while creating it) and was removed.
    pub segment_removed: bool,
}

impl StreamRecovery {
    /// True when nothing had to be cut or removed.
    pub fn is_clean(&self) -> bool {
        self.bytes_cut == 0
            && self.index_bytes_cut == 0
            && self.batches_dropped == 0
            && !self.segment_removed
    }
}

/// What `ExperienceLog::open` found and cut, per stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    pub events: StreamRecovery,
    pub metrics: StreamRecovery,
}

impl RecoveryReport {
    pub fn is_clean(&self) -> bool {
        self.events.is_clean() && self.metrics.is_clean()
    }

    pub(crate) fn stream_mut(&mut self, stream: StreamKind) -> &mut StreamRecovery {
        match stream {
            StreamKind::Events => &mut self.events,
            StreamKind::Metrics => &mut self.metrics,
        }
    }
}

/// Checks that every sealed segment is present with the size the manifest recorded. Sealed
/// segments are never cut: a mismatch means damage, not a crash, and is an error.
pub(crate) fn check_sealed(dir: &Path, manifest: &Manifest) -> Result<(), LogError> {
    for stream in StreamKind::ALL {
        for seg in &manifest.stream(stream).sealed {
            let path = segment_path(dir, stream, seg.id, "arrows");
            let len = std::fs::metadata(&path)
                .map_err(|e| LogError::io("cannot open sealed segment", &path, e))?
                .len();
            if len != seg.bytes {
                return Err(LogError::corrupt(
                    &path,
                    format!(
                        "sealed segment has {len} bytes, the manifest says {}",
                        seg.bytes
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// How many leading entries point at data that is present and matches its checksum.
fn verified_prefix(data: &mut File, data_len: u64, entries: &[IndexEntry]) -> usize {
    let mut buf = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Ok(len) = usize::try_from(e.len) else {
            return i;
        };
        if e.end() > data_len {
            return i;
        }
        buf.resize(len, 0);
        let read = data
            .seek(SeekFrom::Start(e.offset))
            .and_then(|_| data.read_exact(&mut buf));
        if read.is_err() || crc32fast::hash(&buf) != e.crc {
            return i;
        }
    }
    entries.len()
}

fn truncate(path: &Path, len: u64) -> Result<(), LogError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_len(len)?;
            f.sync_all()
        })
        .map_err(|e| LogError::io("cannot cut back", path, e))
}

fn tail_is_eos(data: &mut File, committed: u64, data_len: u64) -> bool {
    if data_len != committed + EOS.len() as u64 {
        return false;
    }
    let mut tail = [0u8; EOS.len()];
    data.seek(SeekFrom::Start(committed))
        .and_then(|_| data.read_exact(&mut tail))
        .is_ok_and(|_| tail == EOS)
}

/// Cuts the active segment `id` of `stream` back to its last intact batch. Returns the kept
/// index entries (`None` if there is no usable active segment) and what was done.
pub(crate) fn recover_active(
    dir: &Path,
    stream: StreamKind,
    id: u32,
) -> Result<(Option<Vec<IndexEntry>>, StreamRecovery), LogError> {
    let data_path = segment_path(dir, stream, id, "arrows");
    let index_path = segment_path(dir, stream, id, "idx");
    if !data_path.exists() && !index_path.exists() {
        return Ok((None, StreamRecovery::default()));
    }
    let mut report = StreamRecovery {
        segment: Some(id),
        ..StreamRecovery::default()
    };
    let scan = read_index(&index_path)?;
    if scan.bad_magic && scan.file_len > INDEX_HEADER + ENTRY_LEN {
        // A crash tears only the end of the index, never its first bytes.
        return Err(LogError::corrupt(&index_path, "index header is damaged"));
    }
    let (mut data, data_len) = match File::open(&data_path) {
        Ok(f) => {
            let len = f
                .metadata()
                .map_err(|e| LogError::io("cannot stat", &data_path, e))?
                .len();
            (Some(f), len)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, 0),
        Err(e) => return Err(LogError::io("cannot open", &data_path, e)),
    };
    let valid = match &mut data {
        Some(f) => verified_prefix(f, data_len, &scan.entries),
        None => 0,
    };
    report.batches_dropped = (scan.entries.len() - valid) as u64;
    let (Some(mut data), true) = (data, valid > 0) else {
        // Not even the schema message was committed: the segment was being created.
        remove_segment_files(dir, stream, id)?;
        report.bytes_cut = data_len;
        report.index_bytes_cut = scan.file_len;
        report.batches_dropped = report.batches_dropped.saturating_sub(1);
        report.segment_removed = true;
        return Ok((None, report));
    };
    let entries = scan.entries[..valid].to_vec();
    decode_schema(
        stream,
        &data_path,
        read_message(&mut data, &data_path, &entries[0])?,
    )?;
    let committed = entries[valid - 1].end();
    report.seal_interrupted =
        report.batches_dropped == 0 && tail_is_eos(&mut data, committed, data_len);
    let index_keep = INDEX_HEADER + ENTRY_LEN * valid as u64;
    if scan.file_len > index_keep {
        truncate(&index_path, index_keep)?;
        report.index_bytes_cut = scan.file_len - index_keep;
    }
    if data_len > committed {
        truncate(&data_path, committed)?;
        if !report.seal_interrupted {
            report.bytes_cut = data_len - committed;
        }
    }
    report.batches_kept = (valid - 1) as u64;
    report.rows_kept = entries.iter().map(|e| u64::from(e.rows)).sum();
    Ok((Some(entries), report))
}
