//! One segment: an Arrow IPC stream file (`seg-N.arrows`: a schema message, one record-batch
//! message per append, and the end-of-stream marker once sealed) plus a sidecar index
//! (`seg-N.idx`) that commits each message with its offset, length, row count and CRC32.

use crate::LogError;
use crate::manifest::{SealedSegment, segment_path, sync_dir};
use crate::schema::{StreamKind, check_fields};
use arrow_array::RecordBatch;
use arrow_buffer::{Buffer, MutableBuffer};
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const INDEX_MAGIC: &[u8; 8] = b"CLNYIDX1";
pub(crate) const INDEX_HEADER: u64 = INDEX_MAGIC.len() as u64;
pub(crate) const ENTRY_LEN: u64 = 32;
/// The Arrow IPC (v5) end-of-stream marker: a continuation token and a zero length.
pub(crate) const EOS: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

/// One committed IPC message. Entry 0 of every index is the schema message (0 rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub offset: u64,
    pub len: u64,
    pub rows: u32,
    pub crc: u32,
}

impl IndexEntry {
    /// 32 bytes, little-endian: offset u64, len u64, rows u32, crc u32, entry crc u32, zero u32.
    /// The entry's own CRC detects an entry torn by a crash.
    pub fn encode(&self) -> [u8; ENTRY_LEN as usize] {
        let mut out = [0u8; ENTRY_LEN as usize];
        out[0..8].copy_from_slice(&self.offset.to_le_bytes());
        out[8..16].copy_from_slice(&self.len.to_le_bytes());
        out[16..20].copy_from_slice(&self.rows.to_le_bytes());
        out[20..24].copy_from_slice(&self.crc.to_le_bytes());
        let own = crc32fast::hash(&out[0..24]);
        out[24..28].copy_from_slice(&own.to_le_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
        if bytes.len() != ENTRY_LEN as usize || crc32fast::hash(&bytes[0..24]) != u32_at(24) {
            return None;
        }
        Some(Self {
            offset: u64_at(0),
            len: u64_at(8),
            rows: u32_at(16),
            crc: u32_at(20),
        })
    }

    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// What an index file holds: the longest prefix of well-formed, contiguous entries, and how many
/// well-formed entries follow a break in it (zero unless something other than a crash happened).
#[derive(Debug, Default)]
pub(crate) struct IndexScan {
    pub entries: Vec<IndexEntry>,
    pub bad_magic: bool,
    pub file_len: u64,
}

pub(crate) fn read_index(path: &Path) -> Result<IndexScan, LogError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(LogError::io("cannot read", path, e)),
    };
    let mut scan = IndexScan {
        file_len: bytes.len() as u64,
        ..IndexScan::default()
    };
    if !bytes.starts_with(INDEX_MAGIC) {
        scan.bad_magic = !bytes.is_empty();
        return Ok(scan);
    }
    let mut expected_offset = 0;
    for chunk in bytes[INDEX_HEADER as usize..].chunks(ENTRY_LEN as usize) {
        let Some(entry) = IndexEntry::decode(chunk) else {
            break;
        };
        let first_is_schema = !scan.entries.is_empty() || entry.rows == 0;
        if entry.offset != expected_offset || !first_is_schema {
            break;
        }
        expected_offset = entry.end();
        scan.entries.push(entry);
    }
    Ok(scan)
}

pub(crate) fn open_rw(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| LogError::io("cannot open", path, e))
}

/// Reads one message into a 64-byte aligned buffer, so that arrays decode from it zero-copy.
pub(crate) fn read_message(
    file: &mut File,
    path: &Path,
    entry: &IndexEntry,
) -> Result<Buffer, LogError> {
    let len = usize::try_from(entry.len)
        .map_err(|_| LogError::corrupt(path, format!("message length {}", entry.len)))?;
    let mut buf = MutableBuffer::from_len_zeroed(len);
    file.seek(SeekFrom::Start(entry.offset))
        .and_then(|_| file.read_exact(buf.as_slice_mut()))
        .map_err(|e| LogError::io("cannot read", path, e))?;
    Ok(buf.into())
}

/// Checks a segment's schema message against the stream's schema and returns a decoder primed
/// with it. (The decoder itself only applies a schema message once the next message arrives.)
pub(crate) fn decode_schema(
    stream: StreamKind,
    path: &Path,
    mut message: Buffer,
) -> Result<StreamDecoder, LogError> {
    let schema = arrow_ipc::convert::try_schema_from_ipc_buffer(&message)
        .map_err(|e| LogError::arrow(format!("reading the schema of {}", path.display()), e))?;
    check_fields(stream, &schema)?;
    let mut decoder = StreamDecoder::new();
    decoder
        .decode(&mut message)
        .map_err(|e| LogError::arrow(format!("decoding the schema of {}", path.display()), e))?;
    Ok(decoder)
}

/// The segment appends go to.
pub(crate) struct ActiveSegment {
    pub id: u32,
    data_path: PathBuf,
    index_path: PathBuf,
    data: File,
    index: File,
    /// Encodes batches into its `Vec<u8>`, from which each message is taken and written whole.
    encoder: StreamWriter<Vec<u8>>,
    /// Committed length of the data file.
    pub bytes: u64,
    pub rows: u64,
    pub batches: u64,
    unsynced: bool,
}

impl ActiveSegment {
    fn encoder(stream: StreamKind) -> Result<(StreamWriter<Vec<u8>>, Vec<u8>), LogError> {
        let mut encoder = StreamWriter::try_new(Vec::new(), &stream.schema())
            .map_err(|e| LogError::arrow("encoding the stream schema", e))?;
        let schema_message = std::mem::take(encoder.get_mut());
        Ok((encoder, schema_message))
    }

    /// Creates segment `id` holding only the schema message, durably (files and their
    /// directory entries are synced), so that later appends only need to sync file contents.
    pub fn create(dir: &Path, stream: StreamKind, id: u32) -> Result<Self, LogError> {
        let data_path = segment_path(dir, stream, id, "arrows");
        let index_path = segment_path(dir, stream, id, "idx");
        let (encoder, schema_message) = Self::encoder(stream)?;
        let entry = IndexEntry {
            offset: 0,
            len: schema_message.len() as u64,
            rows: 0,
            crc: crc32fast::hash(&schema_message),
        };
        let write = |path: &Path, parts: &[&[u8]]| -> Result<(), LogError> {
            let mut f = File::create(path).map_err(|e| LogError::io("cannot create", path, e))?;
            for part in parts {
                f.write_all(part)
                    .map_err(|e| LogError::io("cannot write", path, e))?;
            }
            f.sync_data()
                .map_err(|e| LogError::io("cannot sync", path, e))
        };
        std::fs::create_dir_all(dir.join(stream.name()))
            .map_err(|e| LogError::io("cannot create", dir.join(stream.name()), e))?;
        write(&data_path, &[&schema_message])?;
        write(&index_path, &[INDEX_MAGIC, &entry.encode()])?;
        sync_dir(&dir.join(stream.name()))?;
        Ok(Self {
            id,
            data: open_rw(&data_path)?,
            index: open_rw(&index_path)?,
            data_path,
            index_path,
            encoder,
            bytes: entry.len,
            rows: 0,
            batches: 0,
            unsynced: false,
        })
    }

    /// Opens a segment that recovery has cut back to `entries`.
    pub fn reopen(
        dir: &Path,
        stream: StreamKind,
        id: u32,
        entries: &[IndexEntry],
    ) -> Result<Self, LogError> {
        let data_path = segment_path(dir, stream, id, "arrows");
        let index_path = segment_path(dir, stream, id, "idx");
        // The schema message is already on disk; the encoder's copy of it is dropped.
        let (encoder, _) = Self::encoder(stream)?;
        Ok(Self {
            id,
            data: open_rw(&data_path)?,
            index: open_rw(&index_path)?,
            data_path,
            index_path,
            encoder,
            bytes: entries.last().map_or(0, IndexEntry::end),
            rows: entries.iter().map(|e| u64::from(e.rows)).sum(),
            batches: entries.len().saturating_sub(1) as u64,
            unsynced: false,
        })
    }

    /// Encodes a batch into one IPC message; nothing is written yet.
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, LogError> {
        self.encoder
            .write(batch)
            .map_err(|e| LogError::arrow("encoding a record batch", e))?;
        Ok(std::mem::take(self.encoder.get_mut()))
    }

    /// Hands a written message's buffer back to the encoder, so that the next batch is encoded
    /// into memory already allocated instead of a vector grown by doubling (megabytes a batch).
    pub fn recycle(&mut self, mut message: Vec<u8>) {
        message.clear();
        *self.encoder.get_mut() = message;
    }

    /// Writes one encoded message, then its index entry (so an entry never points at unwritten
    /// data), then syncs both if asked.
    pub fn write(&mut self, message: &[u8], rows: u32, sync: bool) -> Result<(), LogError> {
        let entry = IndexEntry {
            offset: self.bytes,
            len: message.len() as u64,
            rows,
            crc: crc32fast::hash(message),
        };
        self.data
            .write_all(message)
            .map_err(|e| LogError::io("cannot append to", &self.data_path, e))?;
        self.index
            .write_all(&entry.encode())
            .map_err(|e| LogError::io("cannot append to", &self.index_path, e))?;
        self.bytes = entry.end();
        self.rows += u64::from(rows);
        self.batches += 1;
        self.unsynced = true;
        if sync {
            self.sync()?;
        }
        Ok(())
    }

    pub fn sync(&mut self) -> Result<(), LogError> {
        if !self.unsynced {
            return Ok(());
        }
        self.data
            .sync_data()
            .map_err(|e| LogError::io("cannot sync", &self.data_path, e))?;
        self.index
            .sync_data()
            .map_err(|e| LogError::io("cannot sync", &self.index_path, e))?;
        self.unsynced = false;
        Ok(())
    }

    pub fn has_unsynced_writes(&self) -> bool {
        self.unsynced
    }

    /// Appends the end-of-stream marker and syncs; the caller records the result in the manifest.
    pub fn seal(mut self) -> Result<SealedSegment, LogError> {
        self.data
            .write_all(&EOS)
            .map_err(|e| LogError::io("cannot seal", &self.data_path, e))?;
        self.unsynced = true;
        self.sync()?;
        Ok(SealedSegment {
            id: self.id,
            bytes: self.bytes + EOS.len() as u64,
            rows: self.rows,
            batches: self.batches,
        })
    }

    /// Removes a segment that holds no batch (a closed log then holds only sealed segments).
    pub fn discard(self, dir: &Path, stream: StreamKind) -> Result<(), LogError> {
        debug_assert_eq!(self.batches, 0, "only empty segments are discarded");
        remove_segment_files(dir, stream, self.id)
    }
}

pub(crate) fn remove_segment_files(
    dir: &Path,
    stream: StreamKind,
    id: u32,
) -> Result<(), LogError> {
    for ext in ["arrows", "idx"] {
        let path = segment_path(dir, stream, id, ext);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LogError::io("cannot remove", path, e)),
        }
    }
    sync_dir(&dir.join(stream.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_entries_round_trip_and_detect_flipped_bits() {
        let e = IndexEntry {
            offset: 1 << 40,
            len: 12345,
            rows: 77,
            crc: 0xDEAD_BEEF,
        };
        let mut bytes = e.encode();
        assert_eq!(IndexEntry::decode(&bytes), Some(e));
        bytes[9] ^= 1;
        assert_eq!(IndexEntry::decode(&bytes), None);
        assert_eq!(IndexEntry::decode(&bytes[..31]), None);
    }

    #[test]
    fn index_scan_stops_at_a_gap_or_a_torn_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let schema = IndexEntry {
            offset: 0,
            len: 10,
            rows: 0,
            crc: 1,
        };
        let batch = IndexEntry {
            offset: 10,
            len: 5,
            rows: 3,
            crc: 2,
        };
        let gap = IndexEntry {
            offset: 99,
            ..batch
        };
        let mut bytes = INDEX_MAGIC.to_vec();
        for e in [schema, batch, gap] {
            bytes.extend_from_slice(&e.encode());
        }
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_index(&path).unwrap().entries, vec![schema, batch]);
        std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
        assert_eq!(read_index(&path).unwrap().entries, vec![schema]);
        std::fs::write(&path, b"garbage!garbage!").unwrap();
        let scan = read_index(&path).unwrap();
        assert!(scan.bad_magic && scan.entries.is_empty());
        assert!(
            read_index(&dir.path().join("missing.idx"))
                .unwrap()
                .entries
                .is_empty()
        );
    }
}
