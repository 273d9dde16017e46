//! Parquet export: one file per stream (`OUT/events.parquet`, `OUT/metrics.parquet`), written
//! batch by batch from the segment readers. The Arrow schema, metadata included, is embedded, so
//! readers get the exact column types back.

use crate::jsonl::{ExportReport, write_atomically};
use crate::schema::StreamKind;
use crate::{LogError, LogReader};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::path::Path;

/// Rows per Parquet row group. The writer holds a row group in memory until it is full, and an
/// assigned event with 16 candidates is about 1.5 KB, so this caps that at about 100 MB.
const ROW_GROUP_ROWS: usize = 65_536;

/// Writes `OUT/events.parquet` and `OUT/metrics.parquet` (Snappy-compressed); `out_dir` is
/// created if needed. A failed export leaves no partial file behind.
pub fn export_parquet(dir: &Path, out_dir: &Path) -> Result<ExportReport, LogError> {
    let reader = LogReader::open(dir)?;
    std::fs::create_dir_all(out_dir).map_err(|e| LogError::io("cannot create", out_dir, e))?;
    let mut report = ExportReport::default();
    for stream in StreamKind::ALL {
        let path = out_dir.join(format!("{}.parquet", stream.name()));
        let (rows, bytes) = export_stream(&reader, stream, &path)?;
        match stream {
            StreamKind::Events => report.events = rows,
            StreamKind::Metrics => report.metric_samples = rows,
        }
        report.bytes += bytes;
        report.files.push(path);
    }
    Ok(report)
}

fn export_stream(
    reader: &LogReader,
    stream: StreamKind,
    path: &Path,
) -> Result<(u64, u64), LogError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let parquet_err = |source| LogError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let mut rows = 0u64;
    let bytes = write_atomically(path, |out| {
        let mut writer =
            ArrowWriter::try_new(out, stream.schema(), Some(props)).map_err(parquet_err)?;
        for batch in reader.batches(stream) {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(parquet_err)?;
        }
        writer.close().map_err(parquet_err)?;
        Ok(())
    })?;
    Ok((rows, bytes))
}
