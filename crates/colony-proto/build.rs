//! Compiles `proto/colony/v1/*.proto` with protox (a pure-Rust protobuf compiler), so a fresh
//! machine needs no `protoc`. The encoded descriptor set is kept for gRPC server reflection.

use std::path::PathBuf;

const PROTOS: &[&str] = &["colony/v1/coordination.proto", "colony/v1/experience.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }
    let fds = protox::compile(PROTOS, [&root])?;
    std::fs::write(
        out.join("colony_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
