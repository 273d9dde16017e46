//! Experience log (being written).
