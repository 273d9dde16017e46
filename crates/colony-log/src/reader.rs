//! Streaming readers: record batches across segments in order, one batch in memory at a time,
//! each checked against its CRC before Arrow decodes it. Readers never modify a log, so they may
//! run while a writer appends; they see every batch committed before they reach its segment.

use crate::LogError;
use crate::decode::{batch_to_events, batch_to_metrics};
use crate::manifest::{Manifest, SealedSegment, segment_path};
use crate::schema::StreamKind;
use crate::segment::{IndexEntry, decode_schema, read_index, read_message};
use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamDecoder;
use colony_core::{AgentMetricSample, ExperienceEvent};
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A read-only view of a log directory, as of when it was opened.
#[derive(Debug, Clone)]
pub struct LogReader {
    dir: PathBuf,
    manifest: Manifest,
}

/// A segment of one stream, as listed by the manifest (or the active one after them).
#[derive(Debug, Clone)]
pub(crate) enum SegmentRef {
    Sealed(SealedSegment),
    Active(u32),
}

impl SegmentRef {
    pub fn id(&self) -> u32 {
        match self {
            SegmentRef::Sealed(s) => s.id,
            SegmentRef::Active(id) => *id,
        }
    }
}

impl LogReader {
    /// Opens the log in `dir`; errors naming `dir` if it does not exist or is not a log.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest: Manifest::load(dir)?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The feature encoding version the log was written with (see `colony_core::features`).
    pub fn feature_schema_version(&self) -> u32 {
        self.manifest.feature_schema_version
    }

    /// The segments of `stream` in order: the sealed ones, then the active one if it exists.
    pub(crate) fn segments(&self, stream: StreamKind) -> Vec<SegmentRef> {
        let m = self.manifest.stream(stream);
        let mut out: Vec<SegmentRef> = m.sealed.iter().cloned().map(SegmentRef::Sealed).collect();
        let active = m.active_id();
        if segment_path(&self.dir, stream, active, "arrows").exists() {
            out.push(SegmentRef::Active(active));
        }
        out
    }

    /// Record batches of `stream`, across segments in order.
    pub fn batches(&self, stream: StreamKind) -> BatchIter {
        BatchIter {
            dir: self.dir.clone(),
            stream,
            pending: self.segments(stream).into(),
            current: None,
            failed: false,
        }
    }

    pub fn event_batches(&self) -> BatchIter {
        self.batches(StreamKind::Events)
    }

    pub fn metric_batches(&self) -> BatchIter {
        self.batches(StreamKind::Metrics)
    }

    /// Every event, decoded, in log order.
    pub fn events(&self) -> RecordIter<ExperienceEvent> {
        RecordIter::new(self.event_batches(), batch_to_events)
    }

    /// Every metric sample, decoded, in log order.
    pub fn metrics(&self) -> RecordIter<AgentMetricSample> {
        RecordIter::new(self.metric_batches(), batch_to_metrics)
    }
}

/// An open segment being read message by message.
struct SegmentReader {
    path: PathBuf,
    file: File,
    entries: Vec<IndexEntry>,
    next: usize,
    decoder: StreamDecoder,
}

impl SegmentReader {
    /// Opens a segment; `None` for an active segment with nothing committed yet.
    fn open(dir: &Path, stream: StreamKind, seg: &SegmentRef) -> Result<Option<Self>, LogError> {
        let path = segment_path(dir, stream, seg.id(), "arrows");
        let index_path = segment_path(dir, stream, seg.id(), "idx");
        let scan = read_index(&index_path)?;
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let SegmentRef::Active(_) = seg {
                    return Ok(None);
                }
                return Err(LogError::io("cannot open sealed segment", path, e));
            }
            Err(e) => return Err(LogError::io("cannot open", path, e)),
        };
        if let SegmentRef::Sealed(meta) = seg {
            check_sealed_index(&index_path, meta, &scan.entries)?;
            let len = file
                .metadata()
                .map_err(|e| LogError::io("cannot stat", &path, e))?
                .len();
            if len != meta.bytes {
                let reason = format!(
                    "sealed segment has {len} bytes, the manifest says {}",
                    meta.bytes
                );
                return Err(LogError::corrupt(&path, reason));
            }
        }
        let Some(schema_entry) = scan.entries.first() else {
            return Ok(None);
        };
        let message = read_message(&mut file, &path, schema_entry)?;
        check_crc(&path, 0, schema_entry, &message)?;
        let decoder = decode_schema(stream, &path, message)?;
        Ok(Some(Self {
            path,
            file,
            entries: scan.entries,
            next: 1,
            decoder,
        }))
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, LogError> {
        let Some(entry) = self.entries.get(self.next).copied() else {
            return Ok(None);
        };
        let n = self.next;
        self.next += 1;
        let mut message = read_message(&mut self.file, &self.path, &entry)?;
        check_crc(&self.path, n, &entry, &message)?;
        let batch = self
            .decoder
            .decode(&mut message)
            .map_err(|e| {
                LogError::arrow(
                    format!("decoding message {n} of {}", self.path.display()),
                    e,
                )
            })?
            .ok_or_else(|| {
                LogError::corrupt(&self.path, format!("message {n} holds no record batch"))
            })?;
        if batch.num_rows() != entry.rows as usize {
            return Err(LogError::corrupt(
                &self.path,
                format!(
                    "message {n} holds {} rows, its index entry says {}",
                    batch.num_rows(),
                    entry.rows
                ),
            ));
        }
        Ok(Some(batch))
    }
}

fn check_crc(path: &Path, n: usize, entry: &IndexEntry, message: &[u8]) -> Result<(), LogError> {
    if crc32fast::hash(message) == entry.crc {
        return Ok(());
    }
    Err(LogError::corrupt(
        path,
        format!("message {n} fails its checksum"),
    ))
}

/// A sealed segment's index must list exactly what the manifest recorded.
fn check_sealed_index(
    path: &Path,
    meta: &SealedSegment,
    entries: &[IndexEntry],
) -> Result<(), LogError> {
    let rows: u64 = entries.iter().map(|e| u64::from(e.rows)).sum();
    let batches = entries.len().saturating_sub(1) as u64;
    if batches == meta.batches && rows == meta.rows {
        return Ok(());
    }
    Err(LogError::corrupt(
        path,
        format!(
            "index lists {batches} batches and {rows} rows, the manifest says {} and {}",
            meta.batches, meta.rows
        ),
    ))
}

/// Iterator over the record batches of one stream. It stops after the first error.
pub struct BatchIter {
    dir: PathBuf,
    stream: StreamKind,
    pending: VecDeque<SegmentRef>,
    current: Option<SegmentReader>,
    failed: bool,
}

impl BatchIter {
    fn advance(&mut self) -> Result<Option<RecordBatch>, LogError> {
        loop {
            if let Some(seg) = &mut self.current {
                if let Some(batch) = seg.next_batch()? {
                    return Ok(Some(batch));
                }
                self.current = None;
            }
            let Some(next) = self.pending.pop_front() else {
                return Ok(None);
            };
            self.current = SegmentReader::open(&self.dir, self.stream, &next)?;
        }
    }
}

impl Iterator for BatchIter {
    type Item = Result<RecordBatch, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.advance().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

/// Iterator over decoded records, one batch decoded at a time. It stops after the first error.
pub struct RecordIter<T> {
    batches: BatchIter,
    decode: fn(&RecordBatch) -> Result<Vec<T>, LogError>,
    ready: std::vec::IntoIter<T>,
    failed: bool,
}

impl<T> RecordIter<T> {
    fn new(batches: BatchIter, decode: fn(&RecordBatch) -> Result<Vec<T>, LogError>) -> Self {
        Self {
            batches,
            decode,
            ready: Vec::new().into_iter(),
            failed: false,
        }
    }
}

impl<T> Iterator for RecordIter<T> {
    type Item = Result<T, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(record) = self.ready.next() {
                return Some(Ok(record));
            }
            let decoded = self.batches.next()?.and_then(|b| (self.decode)(&b));
            match decoded {
                Ok(records) => self.ready = records.into_iter(),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
