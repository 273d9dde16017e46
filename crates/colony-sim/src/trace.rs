//! Arrival traces: a CSV of recorded tasks (`time_s,task_type,size,priority,required`, a header
//! line, `#` comments, `required` as `python|gpu`) replayed in place of a synthetic arrival
//! process. Every malformed line is reported with its number.

use crate::SimError;
use colony_core::{CapSet, Capability, MAX_PRIORITY, TaskType};

pub const TRACE_HEADER: &str = "time_s,task_type,size,priority,required";

/// One recorded task arrival.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRow {
    pub time_s: f64,
    pub task_type: TaskType,
    pub size: f64,
    pub priority: u8,
    pub required: CapSet,
}

/// Parses a whole trace; `label` (usually the path) names the file in errors.
pub fn parse_trace(label: &str, text: &str) -> Result<Vec<TraceRow>, SimError> {
    let err = |line: usize, reason: String| SimError::Trace {
        path: label.to_string(),
        line,
        reason,
    };
    let mut rows = Vec::new();
    let mut seen_header = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !seen_header {
            if line.replace(' ', "") != TRACE_HEADER {
                return Err(err(
                    line_no,
                    format!("expected the header `{TRACE_HEADER}`"),
                ));
            }
            seen_header = true;
            continue;
        }
        let row = parse_row(line).map_err(|reason| err(line_no, reason))?;
        if let Some(prev) = rows.last().map(|r: &TraceRow| r.time_s)
            && row.time_s < prev
        {
            return Err(err(
                line_no,
                format!("time {} goes back before {prev}", row.time_s),
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(err(
            text.lines().count(),
            "the trace has no task rows".into(),
        ));
    }
    Ok(rows)
}

fn parse_row(line: &str) -> Result<TraceRow, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected 5 comma-separated fields, got {}",
            fields.len()
        ));
    }
    let time_s = parse_f64("time_s", fields[0])?;
    if time_s < 0.0 {
        return Err(format!("time_s must be >= 0, got {time_s}"));
    }
    let task_type: TaskType = fields[1].parse().map_err(|e| format!("{e}"))?;
    let size = parse_f64("size", fields[2])?;
    if size <= 0.0 {
        return Err(format!("size must be > 0, got {size}"));
    }
    let priority: u8 = fields[3].parse().map_err(|_| {
        format!(
            "priority `{}` is not an integer 0..={MAX_PRIORITY}",
            fields[3]
        )
    })?;
    if priority > MAX_PRIORITY {
        return Err(format!("priority {priority} is above {MAX_PRIORITY}"));
    }
    let mut required = CapSet::EMPTY;
    for cap in fields[4]
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let cap: Capability = cap.parse().map_err(|e| format!("{e}"))?;
        required = required.with(cap);
    }
    Ok(TraceRow {
        time_s,
        task_type,
        size,
        priority,
        required,
    })
}

fn parse_f64(field: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{field} `{text}` is not a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_comments_and_capability_lists() {
        let text = "# recorded\ntime_s,task_type,size,priority,required\n0.5,coding,2.0,3,python|rust\n\n1.0,review,1.5,0,\n";
        let rows = parse_trace("t.csv", text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].task_type, TaskType::Coding);
        assert!(rows[0].required.contains(Capability::Rust));
        assert!(rows[1].required.is_empty());
        assert_eq!(rows[1].priority, 0);
    }

    #[test]
    fn errors_name_the_offending_line() {
        let cases = [
            (
                "time_s,task_type,size,priority,required\n1,coding,2,3,\n0.5,coding,1,1,",
                3,
                "goes back",
            ),
            (
                "time_s,task_type,size,priority,required\n1,wizardry,2,3,",
                2,
                "wizardry",
            ),
            (
                "time_s,task_type,size,priority,required\n1,coding,-2,3,",
                2,
                "size",
            ),
            (
                "time_s,task_type,size,priority,required\n1,coding,2,12,",
                2,
                "priority",
            ),
            (
                "time_s,task_type,size,priority,required\n1,coding,2,1,teleport",
                2,
                "teleport",
            ),
            (
                "time_s,task_type,size,priority,required\n1,coding,2",
                2,
                "5 comma",
            ),
            ("# c\nwhen,what\n", 2, "header"),
            (
                "time_s,task_type,size,priority,required\n",
                1,
                "no task rows",
            ),
        ];
        for (text, line, needle) in cases {
            let err = parse_trace("bad.csv", text).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, SimError::Trace { line: l, .. } if l == line),
                "{msg} (expected line {line})"
            );
            assert!(msg.contains("bad.csv") && msg.contains(needle), "{msg}");
        }
    }
}
